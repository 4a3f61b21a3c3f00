import { UPSTREAM_TYPES } from '@crm/contracts';
import { createKafka, parseBrokers } from './kafka';
import { KafkaUpstreamProducer } from './kafka-upstream-producer';
import { dlqTopic, topicOfType, upstreamTopics } from './topics';

describe('topics (DESIGN §3)', () => {
  it('routes every upstream type to one of the four topics', () => {
    const t = upstreamTopics();
    expect(Object.values(t)).toEqual(['crm.customers', 'waybill.shipments', 'billing.payments', 'service.complaints']);
    const routed = Object.fromEntries(UPSTREAM_TYPES.map((type) => [type, topicOfType(type)]));
    expect(routed).toEqual({
      CustomerRegistered: 'crm.customers',
      AccountManagerAssigned: 'crm.customers',
      ShipmentPickedUp: 'waybill.shipments',
      ShipmentDelivered: 'waybill.shipments',
      ShipmentException: 'waybill.shipments',
      PaymentSettled: 'billing.payments',
      PaymentOverdue: 'billing.payments',
      PrepaidDeposited: 'billing.payments',
      ComplaintFiled: 'service.complaints',
      ComplaintAcknowledged: 'service.complaints',
      ComplaintResolved: 'service.complaints',
    });
    expect(topicOfType('ParcelTeleported')).toBeUndefined();
    expect(topicOfType(undefined)).toBeUndefined();
    expect(topicOfType('PaymentOverdue', upstreamTopics('test-'))).toBe('test-billing.payments');
    expect(dlqTopic('waybill.shipments')).toBe('waybill.shipments.dlq');
  });

  it('the producer keys each event by customerId and reports what it cannot route', () => {
    const producer = new KafkaUpstreamProducer({ kafka: createKafka({ brokers: ['127.0.0.1:1'] }), topics: upstreamTopics('p.') });
    const line = '{"eventId":"e1","type":"ComplaintFiled","customerId":"C1","data":{}}';
    expect(producer.route(line)).toEqual({ topic: 'p.service.complaints', message: { key: 'C1', value: line } });
    expect(producer.route({ type: 'PrepaidDeposited', customerId: 'C2' })).toEqual({
      topic: 'p.billing.payments',
      message: { key: 'C2', value: '{"type":"PrepaidDeposited","customerId":"C2"}' },
    });
    // Routable but invalid (no customerId): published without a key; the consumer dead-letters it.
    expect(producer.route('{"type":"ShipmentPickedUp"}')).toMatchObject({ topic: 'p.waybill.shipments', message: { key: null } });
    expect(producer.route('{"type":')).toEqual({ error: expect.stringMatching(/not valid JSON/) });
    expect(producer.route('[1]')).toEqual({ error: 'message must be a JSON object' });
    expect(producer.route('{"type":"Nope"}')).toEqual({ error: 'type "Nope" is not an upstream event type' });
  });

  it('parses broker lists', () => {
    expect(parseBrokers('a:1, b.example.com:9092,[::1]:19092')).toEqual(['a:1', 'b.example.com:9092', '[::1]:19092']);
    expect(() => parseBrokers('')).toThrow(/no broker/);
    expect(() => parseBrokers('a:0')).toThrow(/host:port/);
    expect(() => parseBrokers('http://a:1')).toThrow(/host:port/);
  });
});
