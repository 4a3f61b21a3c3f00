// Derived event ids are made by the event store (see DerivedEventId); kept here for the ingest package's users.
export { derivedEventId, DERIVED_ID_NAMESPACE } from '@crm/event-store';
