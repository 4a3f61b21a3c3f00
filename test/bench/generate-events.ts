import { createWriteStream } from 'fs';
import { once } from 'events';

/**
 * A large upstream NDJSON file for benchmarks: `count` events over `customers` customers in time order
 * (about 55% pickups, 40% deliveries, the rest registrations, payments and complaints), seeded.
 */
export async function writeBenchFile(path: string, count: number, customers = 20_000, seed = 7): Promise<void> {
  let x = seed >>> 0;
  const rnd = () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (n: number) => n.toString(16).padStart(12, '0');
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const start = Date.parse('2025-01-01T00:00:00+08:00');
  const span = 540 * 86_400_000;
  const registered = new Set<number>();
  let buf = '';
  for (let i = 0; i < count; i++) {
    const at = new Date(start + Math.floor((i / count) * span) + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
    const c = Math.floor(rnd() ** 2 * customers);
    const customerId = `B${String(c).padStart(6, '0')}`;
    const eventId = `00000000-0000-4000-8000-${hex(i)}`;
    const r = rnd();
    let type: string;
    let data: object;
    if (!registered.has(c)) {
      registered.add(c);
      type = 'CustomerRegistered';
      data = { name: `客户${c}`, channel: 'ONLINE', city: '深圳', contactPhone: '13800000000' };
    } else if (r < 0.55) {
      type = 'ShipmentPickedUp';
      data = { waybillNo: `SF${hex(i)}`, product: 'NEXT_DAY', freightFen: 800 + Math.floor(rnd() * 4000), originCity: '深圳', destinationCity: '上海', weightGrams: 500 + Math.floor(rnd() * 5000) };
    } else if (r < 0.95) {
      type = 'ShipmentDelivered';
      data = { waybillNo: `SF${hex(i - 1)}`, onTime: rnd() < 0.92 };
    } else if (r < 0.98) {
      type = 'PaymentSettled';
      data = { invoiceId: `INV${hex(i)}`, amountFen: Math.floor(rnd() * 100_000), period: at.slice(0, 7) };
    } else {
      type = 'ComplaintFiled';
      data = { complaintId: `K${hex(i)}`, category: 'QUALITY_SUGGESTION', source: 'HOTLINE_AGENT' };
    }
    buf += JSON.stringify({ eventId, type, occurredAt: at, customerId, source: 'bench', data }) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(buf);
  out.end();
  await once(out, 'finish');
}
