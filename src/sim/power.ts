/**
 * Host power: a table of watts at 0, 10, ..., 100 % CPU, linear between points (SPECpower style,
 * as CloudSim's PowerModelSpecPower). A host with zero load is switched off and draws 0 W; that
 * rule lives in the energy accounting (metrics.ts), not here: `powerAt(table, 0)` is the idle power.
 */
import { InvalidArgumentError } from '../errors.js';

/** Watts at 0, 10, ..., 100 % utilisation (11 values). */
export type PowerTable = readonly number[];

/** HP ProLiant ML110 G4 (SPECpower), W. */
export const POWER_G4: PowerTable = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117];
/** HP ProLiant ML110 G5 (SPECpower), W. */
export const POWER_G5: PowerTable = [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135];

export function checkPowerTable(table: PowerTable): void {
  if (table.length !== 11 || table.some((w) => !(w >= 0))) {
    throw new InvalidArgumentError('powerTable', `needs 11 non-negative watts (0..100 %), got ${table.length} values`);
  }
}

/** Power in W at utilisation `u` (0..1, clamped), linear between the table's 10 % points. */
export function powerAt(table: PowerTable, u: number): number {
  const x = (u <= 0 ? 0 : u >= 1 ? 1 : u) * 10;
  const lo = Math.floor(x);
  const a = table[lo] ?? 0;
  if (lo >= 10) return a;
  const b = table[lo + 1] ?? a;
  return a + (b - a) * (x - lo);
}

/** Energy in J of a host over `seconds` whose load goes linearly from `uFrom` to `uTo` (trapezoid); 0 if it starts switched off. */
export function frameEnergyJ(table: PowerTable, uFrom: number, uTo: number, seconds: number): number {
  if (!(uFrom > 0)) return 0;
  return ((powerAt(table, uFrom) + powerAt(table, uTo)) / 2) * seconds;
}
