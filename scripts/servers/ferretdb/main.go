// Command ferretdb is a tiny launcher for the embeddable FerretDB v1
// (github.com/FerretDB/FerretDB/ferretdb) with the SQLite backend.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb`
// panics at start (build/version/version.txt is not part of the module, see
// FerretDB issue #2982). The embeddable package does not need that file.
//
// Used by scripts/servers/start.sh; it only ever listens on loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "data", "directory for SQLite database files (created if missing)")
	level := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level %q: %v\n", *level, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(logger)

	abs, err := filepath.Abs(*dir)
	if err != nil {
		logger.Error("resolve sqlite dir", "err", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		logger.Error("create sqlite dir", "err", err)
		os.Exit(1)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/", // must be a directory URI ending with '/'
	})
	if err != nil {
		logger.Error("ferretdb.New", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb (embedded v1, sqlite) listening on %s, data in %s\n", *listen, abs)
	if err := f.Run(ctx); err != nil {
		logger.Error("ferretdb.Run", "err", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "ferretdb stopped")
}
