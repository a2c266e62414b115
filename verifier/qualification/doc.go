// Package qualification decides whether a signature is a qualified
// electronic signature or seal, the way ETSI TS 119 615 and TS 119 172-4
// describe it and the EU DSS library reports it: from what the signing
// certificate says about itself (the QC statements of EN 319 412-5 and the
// certificate policies of EN 319 411-2) and what the EU trusted lists (TS 119
// 612) say about the CA that issued it, at the time it was issued and at the
// time it signed.
//
// It is pure logic: no I/O, no clock. The caller brings the certificate
// chain the validation engine built, the best-signature-time, the outcome
// of the AdES validation and the trusted lists that passed their signature
// check (verifier/tsl.Set). The answer is one of the strings of the report
// contract (QESig, QESeal, AdESig-QC, AdESeal-QC, AdESig, AdESeal, N/A, their
// Indeterminate forms and the Not AdES forms) and the list of reasons that
// led to it, one per step, so that an auditor can follow the decision.
//
// The steps, for each of the two times (issuance, signing):
//
//  1. find the services of the lists whose digital identity is a CA of the
//     chain; none means the chain is not under any list: N/A;
//  2. keep the CA/QC services and take each one's state in force at the
//     time (its current status or a history instance); only a granted state
//     (or its pre-eIDAS equivalent) counts;
//  3. in that state, apply the Qualifications extension: the qualifiers of
//     every element whose criteria select the certificate complete or
//     override the certificate's own QcCompliance, QcType and QcSSCD;
//  4. check the type against the service's additional information
//     (granted for e-signatures, e-seals, website authentication).
//
// The certificate is qualified if it was at issuance and its service was
// still granted at signing time; its type is the one at issuance; whether
// the key was in a QSCD is judged at signing time.
package qualification
