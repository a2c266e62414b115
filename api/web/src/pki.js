// Key pairs, PKCS#10 requests and PKCS#12 files, made in the browser with
// WebCrypto and pkijs. Nothing in this module talks to the network: the
// private key leaves it only encrypted under the citizen's password.
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** The key types the page offers (both are in the CA's key policy). */
export const KEY_TYPES = {
  "ec-p256": { name: "ECDSA", namedCurve: "P-256" },
  "rsa-3072": {
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 3072,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  },
};

// Each of the three password uses in the file (the key bag, the
// certificate bag, the MAC) costs this many iterations. 100 000 is fifty
// times OpenSSL's default; the sum stays under the 600 000 that .NET's
// PKCS#12 loader accepts by default, so the file opens everywhere.
const ITERATIONS = 100_000;

// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018), as pkijs's
// EncryptedData and PKCS8ShroudedKeyBag take it.
const pbes2 = (password) => ({
  password,
  contentEncryptionAlgorithm: { name: "AES-CBC", length: 256 },
  hmacHashAlgorithm: "SHA-256",
  iterationCount: ITERATIONS,
});

const OID = {
  commonName: "2.5.4.3",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
};

/**
 * generateKeyPair makes a signing key pair of the given KEY_TYPES name.
 * The private key is extractable only because the PKCS#12 file needs its
 * PKCS#8 form; shroudKey exports it once and encrypts it at once.
 */
export function generateKeyPair(type) {
  const algorithm = KEY_TYPES[type];
  if (!algorithm) throw new Error(`unknown key type ${type}`);
  return crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
}

/**
 * makeCSR returns a PEM PKCS#10 request for the key pair, signed with
 * SHA-256. The CA writes the subject from the confirmed application and
 * ignores the request's; commonName only tells a reader whose it is.
 */
export async function makeCSR(keys, commonName) {
  const csr = new pkijs.CertificationRequest();
  csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({
    type: OID.commonName,
    value: new asn1js.Utf8String({ value: commonName }),
  }));
  await csr.subjectPublicKeyInfo.importKey(keys.publicKey);
  // PKCS#10 requires the attributes field even when it is empty.
  csr.attributes = [];
  await csr.sign(keys.privateKey, "SHA-256");
  return toPEM("CERTIFICATE REQUEST", csr.toSchema().toBER(false));
}

/**
 * shroudKey exports the private key as PKCS#8 and encrypts it into a
 * PKCS#12 shrouded key bag, wiping the plain bytes afterwards. Done before
 * the request is sent, so the unencrypted key lives for milliseconds.
 */
export async function shroudKey(privateKey, password) {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  try {
    const bag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(pkcs8) });
    await bag.makeInternalValues(pbes2(password));
    delete bag.parsedValue; // only the encrypted form goes into the file
    return bag;
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * buildPKCS12 returns the DER of a password-protected PKCS#12 file holding
 * the shrouded key, the certificate and its chain (issuing CA, then root).
 * The key and the certificate share a localKeyId, which is how OpenSSL,
 * Windows and browsers pair them; the CA certificates carry none.
 */
export async function buildPKCS12({ keyBag, certificatePEM, chainPEM, password, friendlyName }) {
  const certDER = fromPEM(certificatePEM)[0];
  const keyId = new Uint8Array(await crypto.subtle.digest("SHA-256", certDER));
  const leafAttributes = [
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: keyId })] }),
    new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: friendlyName })] }),
  ];
  const certBag = (der, bagAttributes) => new pkijs.SafeBag({
    bagId: OID.certBag,
    bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(der) }),
    bagAttributes,
  });
  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password MAC
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            // The key bag is encrypted by itself: its SafeContents is plain data.
            { privacyMode: 0, value: new pkijs.SafeContents({
              safeBags: [new pkijs.SafeBag({ bagId: OID.shroudedKeyBag, bagValue: keyBag, bagAttributes: leafAttributes })],
            }) },
            // The certificates go into password-encrypted data, as OpenSSL does.
            { privacyMode: 1, value: new pkijs.SafeContents({
              safeBags: [certBag(certDER, leafAttributes), ...fromPEM(chainPEM).map((der) => certBag(der))],
            }) },
          ],
        },
      }),
    },
  });
  await pfx.parsedValue.authenticatedSafe.makeInternalValues({ safeContents: [{}, pbes2(password)] });
  // The MAC key comes from the PKCS#12 KDF (RFC 7292 B.2); pkijs turns the
  // UTF-8 password into the BMPString that KDF is defined on.
  await pfx.makeInternalValues({
    password,
    iterations: ITERATIONS,
    pbkdf2HashAlgorithm: "SHA-256",
    hmacHashAlgorithm: "SHA-256",
  });
  return pfx.toSchema().toBER(false);
}

/** toPEM wraps DER in PEM armour with 64-character lines. */
export function toPEM(label, der) {
  const bytes = new Uint8Array(der);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** fromPEM returns the DER of every PEM block in text, in order. */
export function fromPEM(text) {
  const blocks = text.match(/-----BEGIN [A-Z0-9 ]+-----[^-]+-----END [A-Z0-9 ]+-----/g) ?? [];
  return blocks.map((block) => {
    const b64 = block.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  });
}
