/** The built-in domains, in corpus order (ids and seeds depend on this order). */
import type { Domain } from "../build.ts";
import { banking } from "./banking.ts";
import { calendar } from "./calendar.ts";
import { devops } from "./devops.ts";
import { email } from "./email.ts";
import { files } from "./files.ts";
import { health } from "./health.ts";
import { smartHome } from "./smart-home.ts";
import { web } from "./web.ts";

export const DOMAINS: readonly Domain[] = [banking, email, files, calendar, smartHome, web, health, devops];
