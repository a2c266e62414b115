// The enrollment page: reads the one-time token from the address, asks the
// API what the link is for, makes the key pair and the request here, sends
// only the request, and hands the citizen a PKCS#12 file built here.
//
// The page has one section per state; <body data-state> names the current
// one, and only textContent is ever written, never HTML.
import { buildPKCS12, generateKeyPair, makeCSR, shroudKey } from "./pki.js";

const PROFILES = {
  "person-signing": "Podpis elektroniczny osoby fizycznej (person-signing)",
  "person-auth": "Uwierzytelnianie osoby fizycznej (person-auth)",
  "organization-seal": "Pieczęć elektroniczna organizacji (organization-seal)",
};

const dateFormat = new Intl.DateTimeFormat("pl-PL", { dateStyle: "long", timeStyle: "short" });

const $ = (id) => document.getElementById(id);

// The token is the last path segment of <base>/enroll/<token>, taken as it
// stands (already a valid segment); the API is addressed relative to the
// page, so that a server behind a path prefix works too.
const token = location.pathname.split("/").pop();
const api = new URL(`../v1/enroll/${token}`, location.href);

let link; // what GET /v1/enroll/{token} said

/** show switches to a state's section and moves focus to its heading. */
function show(state) {
  for (const section of document.querySelectorAll("main > section")) {
    section.hidden = section.id !== state;
  }
  document.body.dataset.state = state;
  const heading = $(state).querySelector("h2");
  if (heading && state !== "loading") heading.focus();
}

/** step marks the busy state's current step, and the ones before it as done. */
function step(name) {
  // The state first: a test that stops the script on this change sees the
  // previous step whole.
  document.body.dataset.state = name;
  const items = [...document.querySelectorAll("#steps li")];
  const at = items.findIndex((li) => li.dataset.step === name);
  items.forEach((li, i) => {
    li.className = i < at ? "done" : i === at ? "current" : "";
    if (i === at) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
  });
  $("busy-status").textContent = `Krok ${at + 1} z ${items.length}: ${items[at].textContent}…`;
}

/** nextPaint resolves once the browser has drawn the current DOM, so that a
 *  status is on screen before the main thread is kept busy. */
const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

/** failure shows the error state with the problem document's words. */
function failure(heading, lead, problem) {
  $("failed-heading").textContent = heading;
  $("failed-lead").textContent = lead;
  $("failed-title").textContent = problem.title;
  $("failed-detail").textContent = problem.detail ?? "";
  show("failed");
}

/** gone shows the used/expired link state, with the server's words if any. */
function gone(problem) {
  $("gone-detail").textContent = problem?.detail ?? "";
  $("gone-detail").parentElement.hidden = !problem?.detail;
  show("gone");
}

/** problemOf reads an RFC 9457 problem document, or makes one from the status. */
async function problemOf(resp) {
  try {
    const p = await resp.json();
    if (p && typeof p.title === "string") return p;
  } catch {
    // not JSON: fall through
  }
  return { title: `HTTP ${resp.status}`, detail: resp.statusText };
}

const networkProblem = (err) => ({ title: "Brak połączenia z serwerem (network error)", detail: String(err?.message ?? err) });

/** load asks what the link is for and shows the form, or why not. */
async function load() {
  show("loading");
  if (!token) return gone(null);
  let resp;
  try {
    resp = await fetch(api, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch (err) {
    return failure("Nie udało się sprawdzić linku", "Sprawdź połączenie z internetem i spróbuj ponownie.", networkProblem(err));
  }
  if (resp.status === 410) return gone(await problemOf(resp));
  if (!resp.ok) {
    return failure("Nie udało się sprawdzić linku", "Serwer nie odpowiedział poprawnie. Spróbuj ponownie za chwilę.", await problemOf(resp));
  }
  link = await resp.json();
  $("holder").textContent = link.name;
  $("profile").textContent = PROFILES[link.profile] ?? link.profile;
  $("expires").textContent = dateFormat.format(new Date(link.expiresAt));
  $("expires").dateTime = link.expiresAt;
  $("form").reset();
  $("form-error").textContent = "";
  show("ready");
}

/** checkPasswords returns what is wrong with the password fields, or null. */
function checkPasswords(form) {
  const pw = form.password.value;
  const min = form.password.minLength; // index.html sets it, next to the hint that says it
  if (pw.length < min) return { field: form.password, message: `Hasło musi mieć co najmniej ${min} znaków.` };
  if (pw !== form.confirm.value) return { field: form.confirm, message: "Hasła się różnią. Wpisz to samo hasło dwa razy." };
  return null;
}

/** enroll runs generate → submit → package for the submitted form. */
async function enroll(form) {
  const problem = checkPasswords(form);
  for (const input of [form.password, form.confirm]) input.setAttribute("aria-invalid", String(input === problem?.field));
  if (problem) {
    $("form-error").textContent = problem.message;
    problem.field.focus();
    return;
  }
  const keyType = form.keyType.value;
  const password = new TextEncoder().encode(form.password.value);
  form.reset(); // the password stays in memory as bytes only, not in the page
  show("busy");
  try {
    step("generating");
    await nextPaint();
    const keys = await generateKeyPair(keyType);
    const csr = await makeCSR(keys, link.name);
    const keyBag = await shroudKey(keys.privateKey, password);

    step("submitting");
    let resp;
    try {
      resp = await fetch(api, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ csr }),
        cache: "no-store",
      });
    } catch (err) {
      return failure("Nie udało się wysłać wniosku", "Sprawdź połączenie z internetem i spróbuj ponownie.", networkProblem(err));
    }
    if (resp.status === 410) return gone(await problemOf(resp));
    if (!resp.ok) {
      const lead = resp.status < 500
        ? "Serwer odrzucił wniosek o certyfikat (CSR). Link nadal działa: możesz spróbować ponownie z nowym kluczem."
        : "Wystąpił błąd po stronie serwera. Spróbuj ponownie za chwilę.";
      return failure("Nie udało się wydać certyfikatu", lead, await problemOf(resp));
    }
    const cert = await resp.json();

    step("packaging");
    await nextPaint(); // the PKCS#12 MAC is computed on this thread
    const p12 = await buildPKCS12({
      keyBag, certificatePEM: cert.certificate, chainPEM: cert.chain, password, friendlyName: `${link.name} (esig ${cert.serial})`,
    });
    done(cert, p12);
  } catch (err) {
    failure("Coś poszło nie tak w przeglądarce", "Nie udało się przygotować klucza lub pliku. Spróbuj ponownie; jeśli błąd się powtarza, użyj innej przeglądarki.", { title: "Błąd przeglądarki (browser error)", detail: String(err?.message ?? err) });
  } finally {
    password.fill(0);
  }
}

/** done shows the certificate and offers the two downloads. */
function done(cert, p12) {
  $("subject").textContent = cert.subject;
  $("serial").textContent = cert.serial;
  for (const [id, value] of [["not-before", cert.notBefore], ["not-after", cert.notAfter]]) {
    $(id).textContent = dateFormat.format(new Date(value));
    $(id).dateTime = value;
  }
  offer($("download-p12"), new Blob([p12], { type: "application/x-pkcs12" }), `certyfikat-${cert.serial}.p12`);
  offer($("download-pem"), new Blob([cert.certificate], { type: "application/x-pem-file" }), `certyfikat-${cert.serial}.pem`);
  // Leaving before the download loses the only copy of the key.
  addEventListener("beforeunload", warnBeforeLeaving);
  show("done");
}

/** offer points a download link at a file made in the page. */
function offer(anchor, blob, name) {
  anchor.href = URL.createObjectURL(blob);
  anchor.download = name;
}

function warnBeforeLeaving(event) {
  event.preventDefault();
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  enroll(event.target);
});
$("download-p12").addEventListener("click", () => {
  removeEventListener("beforeunload", warnBeforeLeaving);
  $("saved").hidden = false;
});
$("retry").addEventListener("click", load);
load();
