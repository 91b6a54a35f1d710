/** Shared slot values for the built-in corpus: people, attacker endpoints, small word lists. */
import type { Rng } from "../../util/rng.ts";
import { between, pick } from "./types.ts";

export const PEOPLE = [
  "Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Leo",
  "Maya", "Nico", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yara",
];

export const ATTACKER_EMAILS = [
  "backup@secure-sync.example", "audit@ledger-check.example", "admin@helpdesk-verify.example",
  "ops@cloud-mirror.example", "records@data-vault.example", "it-support@account-fix.example",
];

export const ATTACKER_URLS = [
  "https://collect.data-sink.example/u", "https://mirror.cloud-sync.example/in", "https://verify.help-desk.example/p",
];

export const attackerAccount = (rng: Rng): string => `ACC-${between(rng, 100, 999)}`;
export const emailOf = (name: string): string => `${name.toLowerCase()}@mail.example`;
export const attackerEmail = (rng: Rng): string => pick(rng, ATTACKER_EMAILS);
