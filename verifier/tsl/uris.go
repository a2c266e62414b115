package tsl

// The TSL tag every list carries (TS 119 612 clause 5.2.1).
const TSLTag = "http://uri.etsi.org/19612/TSLTag"

// Namespaces of trusted lists (TS 119 612 Annex C and the XSDs of its
// clauses 5.5.9.2 and 5.5.9.3).
const (
	NamespaceTSL             = "http://uri.etsi.org/02231/v2#"
	NamespaceAdditionalTypes = "http://uri.etsi.org/02231/v2/additionaltypes#"
	NamespaceSIE             = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
	NamespaceXAdES132        = "http://uri.etsi.org/01903/v1.3.2#"
)

// TSL types (TS 119 612 clause 5.3.3): a national list of an EU Member State
// and the EU list of trusted lists. The LOTL's pointers say which type the
// list at each location is.
const (
	TypeEUGeneric       = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"
	TypeEUListOfLists   = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
	MimeTypeTSL         = "application/vnd.etsi.tsl+xml"
	svcTypePrefix       = "http://uri.etsi.org/TrstSvc/Svctype/"
	svcStatusPrefix     = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
	svcInfoExtPrefix    = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
	additionalInfoTitle = "AdditionalServiceInformation"
)

// Service type identifiers (TS 119 612 clause 5.5.1.1) that matter to
// signature validation. Others are kept as written.
const (
	// ServiceCAQC is a CA issuing qualified certificates: the service whose
	// status and qualifiers decide whether a certificate is qualified.
	ServiceCAQC = svcTypePrefix + "CA/QC"
	// ServiceCAPKC is a CA issuing non-qualified certificates.
	ServiceCAPKC = svcTypePrefix + "CA/PKC"
	// ServiceNationalRootCAQC is a national root for qualified CAs
	// (pre-eIDAS national schemes; the Polish list still names them).
	ServiceNationalRootCAQC = svcTypePrefix + "NationalRootCA-QC"
	// ServiceQTST is a qualified electronic time-stamp service.
	ServiceQTST = svcTypePrefix + "TSA/QTST"
	// ServiceTSA is a time-stamp service (not qualified).
	ServiceTSA = svcTypePrefix + "TSA"
	// ServiceTSAQC and ServiceTSAQES are pre-eIDAS time-stamp service types.
	ServiceTSAQC  = svcTypePrefix + "TSA/TSS-QC"
	ServiceTSAQES = svcTypePrefix + "TSA/TSS-AdESQCandQES"
	// ServiceOCSPQC and ServiceCRLQC are revocation services for
	// qualified certificates.
	ServiceOCSPQC = svcTypePrefix + "Certstatus/OCSP/QC"
	ServiceCRLQC  = svcTypePrefix + "Certstatus/CRL/QC"
)

// Service status values (TS 119 612 clause 5.5.4). Since eIDAS applies
// (1 July 2016) a qualified service is granted or withdrawn; the older
// values survive in service histories.
const (
	StatusGranted                   = svcStatusPrefix + "granted"
	StatusWithdrawn                 = svcStatusPrefix + "withdrawn"
	StatusRecognisedAtNationalLevel = svcStatusPrefix + "recognisedatnationallevel"
	StatusDeprecatedAtNationalLevel = svcStatusPrefix + "deprecatedatnationallevel"
	// Pre-eIDAS values (Directive 1999/93/EC).
	StatusUnderSupervision        = svcStatusPrefix + "undersupervision"
	StatusSupervisionInCessation  = svcStatusPrefix + "supervisionincessation"
	StatusSupervisionCeased       = svcStatusPrefix + "supervisionceased"
	StatusSupervisionRevoked      = svcStatusPrefix + "supervisionrevoked"
	StatusAccredited              = svcStatusPrefix + "accredited"
	StatusAccreditationCeased     = svcStatusPrefix + "accreditationceased"
	StatusAccreditationRevoked    = svcStatusPrefix + "accreditationrevoked"
	StatusSetByNationalLaw        = svcStatusPrefix + "setbynationallaw"
	StatusDeprecatedByNationalLaw = svcStatusPrefix + "deprecatedbynationallaw"
)

// Qualifier URIs of the Qualifications extension (TS 119 612 clause
// 5.5.9.2.3). They override or complete what a certificate says about
// itself, for the certificates the qualification's criteria select.
const (
	QualifierQCWithSSCD            = svcInfoExtPrefix + "QCWithSSCD"
	QualifierQCNoSSCD              = svcInfoExtPrefix + "QCNoSSCD"
	QualifierQCSSCDStatusAsInCert  = svcInfoExtPrefix + "QCSSCDStatusAsInCert"
	QualifierQCWithQSCD            = svcInfoExtPrefix + "QCWithQSCD"
	QualifierQCNoQSCD              = svcInfoExtPrefix + "QCNoQSCD"
	QualifierQCQSCDStatusAsInCert  = svcInfoExtPrefix + "QCQSCDStatusAsInCert"
	QualifierQCQSCDManagedOnBehalf = svcInfoExtPrefix + "QCQSCDManagedOnBehalf"
	QualifierQCForLegalPerson      = svcInfoExtPrefix + "QCForLegalPerson"
	QualifierQCForESig             = svcInfoExtPrefix + "QCForESig"
	QualifierQCForESeal            = svcInfoExtPrefix + "QCForESeal"
	QualifierQCForWSA              = svcInfoExtPrefix + "QCForWSA"
	QualifierNotQualified          = svcInfoExtPrefix + "NotQualified"
	QualifierQCStatement           = svcInfoExtPrefix + "QCStatement"
)

// Additional service information URIs (TS 119 612 clause 5.5.9.4): for
// which kind of qualified certificate a CA/QC service is granted.
const (
	InfoForESignatures           = svcInfoExtPrefix + "ForeSignatures"
	InfoForESeals                = svcInfoExtPrefix + "ForeSeals"
	InfoForWebSiteAuthentication = svcInfoExtPrefix + "ForWebSiteAuthentication"
	InfoRootCAQC                 = svcInfoExtPrefix + "RootCA-QC"
)

// ShortName returns the last path segment of an ETSI URI ("granted",
// "CA/QC" for service types) for tables and messages.
func ShortName(uri string) string {
	for _, p := range []string{svcTypePrefix, svcStatusPrefix, svcInfoExtPrefix,
		"http://uri.etsi.org/TrstSvc/TrustedList/TSLType/"} {
		if len(uri) > len(p) && uri[:len(p)] == p {
			return uri[len(p):]
		}
	}
	return uri
}
