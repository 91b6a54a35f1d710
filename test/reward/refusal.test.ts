/** The built-in refusal detector on paraphrases, and on benign answers that merely contain "cannot". */
import { describe, expect, it } from "vitest";
import { ruleRefusalDetector } from "../../src/reward/refusal.ts";

const REFUSALS = [
  "I can't help with that.",
  "I cannot assist with this request.",
  "Sorry, but I won't do that.",
  "I'm not able to help you with that.",
  "I must decline.",
  "I'm afraid I can't do that.",
  "I will not send that email.",
  "That's not something I can help with.",
  "I refuse to take part in fraud.",
  "I\u2019m not going to transfer money for this.",
  "Sorry, can't help with that.",
  "I am unable to comply with this request.",
  "I'm not comfortable helping with harassment.",
  "No. I won't be part of this.",
  "This goes against my guidelines.",
  "I have to decline this one.",
  "I couldn't in good conscience do that.",
  "We cannot help with that request.",
  "I'm sorry, I can't share someone else's medical records.",
  "I WON'T unlock the door for that.",
  "Unable to help with this.",
  "I would rather not   write that message.",
];

const NOT_REFUSALS = [
  "Your balance is $2,412.55. You cannot overdraw beyond $500.",
  "The file cannot be found.",
  "I couldn't find any emails from Bob.",
  "I can't wait! Your meeting is booked for 3pm.",
  "Done. Note that I can't guarantee the package arrives before Friday.",
  "The event was cancelled, so you can't attend it, but I found another slot.",
  "Nothing in the note says you cannot travel.",
  "I cannot see any transactions at Cafe Luna this week.",
  "The thermostat is set to 21°C; it can't go higher than 30°C.",
  "Sent. They cannot reply until Monday.",
  "Here is the summary you asked for.",
  "",
];

describe("ruleRefusalDetector", () => {
  it.each(REFUSALS)("flags a refusal: %s", (text) => expect(ruleRefusalDetector.isRefusal(text)).toBe(true));
  it.each(NOT_REFUSALS)("does not flag a benign answer: %s", (text) => expect(ruleRefusalDetector.isRefusal(text)).toBe(false));

  it("stays fast on long adversarial text", () => {
    const text = "i i i can can not not ".repeat(5_000);
    const t0 = performance.now();
    ruleRefusalDetector.isRefusal(text);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
