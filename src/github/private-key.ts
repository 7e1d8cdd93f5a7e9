import { type Result, ok, err } from "../result.ts";

/**
 * The PEM text of `GITHUB_APP_PRIVATE_KEY`: CI secret stores often keep one line only, so a `|`
 * stands for each newline (SPEC §7). CRLF line ends and surrounding white space are dropped.
 * Pure; a `|` cannot occur in PEM otherwise (base64 and the armour lines have none).
 */
export function normalisePrivateKey(raw: string): string {
  const text = raw.replaceAll("|", "\n").replaceAll("\r\n", "\n").trim();
  return text === "" ? "" : `${text}\n`;
}

/**
 * Checks that the normalised text is an RSA private key in PEM (PKCS#1, as GitHub hands it out,
 * or PKCS#8). Messages name the variable and never quote its value.
 */
export function checkPrivateKey(pem: string): Result<string> {
  if (!/^-----BEGIN (RSA )?PRIVATE KEY-----\n/.test(pem)) {
    return err(
      "GITHUB_APP_PRIVATE_KEY is not a PEM private key: it must start with -----BEGIN RSA PRIVATE KEY----- " +
        "(the .pem file GitHub gives for the app, with real newlines or | for each newline)",
    );
  }
  try {
    // Loaded here, not at the top: settings.ts imports this module on every run, and loading
    // node:crypto costs ~1.5 ms of start-up that the no-op path (statuses off) must not pay.
    const { createPrivateKey } = require("node:crypto") as typeof import("node:crypto");
    const key = createPrivateKey({ key: pem, format: "pem" });
    if (key.asymmetricKeyType !== "rsa") return err(`GITHUB_APP_PRIVATE_KEY is not an RSA key (it is ${key.asymmetricKeyType}); GitHub Apps sign with RSA (RS256)`);
  } catch (e) {
    // OpenSSL's reason (e.g. "DECODER routines::unsupported") holds no key material.
    const reason = e instanceof Error ? e.message : String(e);
    return err(`GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key (${reason}); check that the whole .pem file was copied`);
  }
  return ok(pem);
}
