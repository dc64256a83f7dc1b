// What the UI knows about each exchange: names, the "Add key" form's words and shape rules, and the
// capabilities it shows. Generated from the Rust adapters (crates/core/src/exchange/form.rs) into
// ./generated/exchanges.json by the `ipc_contract` test, and imported at build time: no IPC call at
// start-up. Nothing else in the UI names an exchange (`exchange-neutral.test.ts` checks), so adding
// one to Rust needs no change here.

import data from './generated/exchanges.json';
import type { Exchange, ExchangeForm } from './types';

/** Every exchange, in the order lists show them. */
export const EXCHANGE_FORMS: readonly ExchangeForm[] = data as ExchangeForm[];

export const EXCHANGES: readonly Exchange[] = EXCHANGE_FORMS.map((f) => f.id);

const BY_ID = new Map<string, ExchangeForm>(EXCHANGE_FORMS.map((f) => [f.id, f]));

export function isExchange(value: unknown): value is Exchange {
  return typeof value === 'string' && BY_ID.has(value);
}

export function exchangeForm(ex: Exchange): ExchangeForm | undefined {
  return BY_ID.get(ex);
}

/** What people call it ("OKX"); the id itself for an exchange this build does not know. */
export function exchangeName(ex: Exchange): string {
  return BY_ID.get(ex)?.name ?? ex;
}

/** Keys that come with a passphrase chosen at creation. */
export function needsPassphrase(ex: Exchange | null): boolean {
  return !!ex && !!BY_ID.get(ex)?.passphrase;
}

/** "OKX, Bybit and Binance". */
export function listedNames(): string {
  const names = EXCHANGE_FORMS.map((f) => f.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? '');
}

/** The lifetimes (days) a bot key minted on this exchange may be given; empty: none offered. */
export function keyLifetimes(ex: Exchange): readonly number[] {
  return BY_ID.get(ex)?.capabilities.keyLifetimes ?? [];
}
