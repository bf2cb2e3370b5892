import { createHash } from 'node:crypto';
import { deliveryRow, storedDelivery, type DeliveryOutcome, type DeliverySummary, type StoredDelivery } from '@kpi/schemas';
import type { Storage } from '../client.ts';

export { DELIVERY_OUTCOMES, deliveryRow, storedDelivery, type DeliveryOutcome, type DeliverySummary, type StoredDelivery } from '@kpi/schemas';

/** Our id of a delivery: stable for (connector, the sender's delivery id), short and URL-safe. */
export const deliveryKey = (connector: string, deliveryId: string) => createHash('sha256').update(`${connector}\n${deliveryId}`).digest('hex').slice(0, 24);

const chTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

export interface DeliveryRecord {
  connector: string;
  deliveryId: string;
  receivedAt: Date;
  outcome: DeliveryOutcome;
  reason: string;
  events: string[];
  headers: Record<string, string>;
  query: Record<string, string>;
  body: string;
  attempts: number;
}

/** The archive of webhook deliveries (migrations 008, 014). */
export const webhookDeliveries = {
  async record(storage: Storage, delivery: DeliveryRecord): Promise<string> {
    const id = deliveryKey(delivery.connector, delivery.deliveryId);
    await storage.insert('webhook_deliveries', [
      {
        id,
        connector: delivery.connector,
        delivery_id: delivery.deliveryId,
        received_at: chTime(delivery.receivedAt),
        outcome: delivery.outcome,
        reason: delivery.reason,
        events: delivery.events,
        headers: delivery.headers,
        query: delivery.query,
        body: delivery.body,
        attempts: delivery.attempts,
        updated_at: chTime(new Date()),
      },
    ]);
    return id;
  },

  async get(storage: Storage, id: string): Promise<StoredDelivery | undefined> {
    const [row] = await storage.query<Record<string, unknown>>(
      `SELECT id, connector, delivery_id, received_at, outcome, reason, events, attempts, updated_at, headers, query, body
       FROM {db:Identifier}.webhook_deliveries FINAL WHERE id = {id:String}`,
      { id },
    );
    return row ? storedDelivery.parse(row) : undefined;
  },

  /** Newest first. */
  async list(storage: Storage, filter: { connector?: string; outcome?: DeliveryOutcome; limit: number }): Promise<DeliverySummary[]> {
    const rows = await storage.query<Record<string, unknown>>(
      `SELECT id, connector, delivery_id, received_at, outcome, reason, events, attempts, updated_at
       FROM {db:Identifier}.webhook_deliveries FINAL
       WHERE ({connector:String} = '' OR connector = {connector:String}) AND ({outcome:String} = '' OR outcome = {outcome:String})
       ORDER BY received_at DESC, id LIMIT {limit:UInt32}`,
      { connector: filter.connector ?? '', outcome: filter.outcome ?? '', limit: filter.limit },
    );
    return rows.map((row) => deliveryRow.parse(row));
  },
};
