package records

import (
	"fmt"
	"strings"
)

// A Rule is one contraindication: a kind of treatment that conflicts with
// something the record holds. Meets says whether a treatment entry meets
// it, for the record it is added to; Warning says why, in words for the
// person giving the treatment (it is client data: it is shown and stored
// in the entry, never put in an error).
type Rule struct {
	ID      string
	Meets   func(r *Record, t *Treatment) bool
	Warning func(r *Record, t *Treatment) string
}

// Rules is the contraindication table that note checks every treatment
// entry against. A match is a warning, not a verdict: the entry is refused
// until the person confirms it (note --yes), and the warning is kept in it.
var Rules = []Rule{
	{
		ID: "isotretinoin-resurfacing",
		Meets: func(r *Record, t *Treatment) bool {
			return isotretinoinWithinSixMonths(r, t.Date) && serviceIs(t, laserWords, peelWords, waxWords)
		},
		Warning: func(r *Record, t *Treatment) string {
			return "laser, peels and waxing are contraindicated on isotretinoin and for 6 months after it (the record lists isotretinoin)"
		},
	},
	{
		ID: "photosensitivity-laser",
		Meets: func(r *Record, t *Treatment) bool {
			return serviceIs(t, laserWords) && (anyMatch(r.Medications, photosensitisingDrugs) || recentSun(r))
		},
		Warning: func(r *Record, t *Treatment) string {
			var why []string
			if m := firstMatch(r.Medications, photosensitisingDrugs); m != "" {
				why = append(why, "a photosensitising medication ("+m+")")
			}
			if recentSun(r) {
				why = append(why, "recent sun exposure")
			}
			return "laser with " + strings.Join(why, " and ") + ": risk of burns and pigment change"
		},
	},
	{
		ID:    "positive-patch-test",
		Meets: func(r *Record, t *Treatment) bool { return positivePatchTest(r, t) != "" },
		Warning: func(r *Record, t *Treatment) string {
			return fmt.Sprintf("the product %s had a positive patch test", positivePatchTest(r, t))
		},
	},
	{
		ID: "pregnancy-retinoid",
		Meets: func(r *Record, t *Treatment) bool {
			return r.Pregnant && (anyMatch(r.Medications, retinoids) || anyMatch(t.Products, retinoids) || serviceIs(t, retinoids))
		},
		Warning: func(r *Record, t *Treatment) string {
			return "retinoids are contraindicated in pregnancy (the client is pregnant)"
		},
	},
}

// Contraindications returns the warnings of every rule that the entry t
// meets for the record r, in the order of Rules.
func Contraindications(r *Record, t *Treatment) []string {
	var out []string
	for _, rule := range Rules {
		if rule.Meets(r, t) {
			out = append(out, rule.Warning(r, t))
		}
	}
	return out
}

// ContraindicationError is returned by CheckEntry when an entry meets
// contraindication rules and was not accepted (Treatment.AcceptWarnings).
// Its message holds only how many; Warnings, which are client data, are for
// the caller to show to the person who may see them.
type ContraindicationError struct {
	Warnings []string
}

func (e *ContraindicationError) Error() string {
	if len(e.Warnings) == 1 {
		return "the treatment meets a contraindication rule"
	}
	return fmt.Sprintf("the treatment meets %d contraindication rules", len(e.Warnings))
}

var (
	laserWords = []string{"laser", "ipl", "intense pulsed light", "photofacial", "resurfacing"}
	peelWords  = []string{"peel", "microderm", "dermabrasion"}
	waxWords   = []string{"wax"}
	// isotretinoinNames are the generic name and common brand names.
	isotretinoinNames     = []string{"isotretinoin", "accutane", "roaccutane", "absorica", "claravis", "amnesteem", "myorisan", "zenatane"}
	photosensitisingDrugs = []string{"doxycycline", "tetracycline", "minocycline", "st john", "st. john", "hydrochlorothiazide",
		"amiodarone", "ciprofloxacin", "levofloxacin", "sulfamethoxazole", "methotrexate", "tretinoin",
		"isotretinoin", "photosensiti"}
	retinoids = []string{"retinol", "retinoid", "tretinoin", "isotretinoin", "adapalene", "tazarotene", "retin-a", "accutane", "roaccutane"}
	sunWords  = []string{"sun exposure", "sunburn", "suntan", "tanning", "sunbed", "recent tan"}
)

// isotretinoinWithinSixMonths reports whether the record lists isotretinoin
// as a medication, or as a contraindication dated within the six months
// before day ("isotretinoin until 2026-01-15"); an undated one counts.
func isotretinoinWithinSixMonths(r *Record, day Date) bool {
	if anyMatch(r.Medications, isotretinoinNames) {
		return true
	}
	for _, c := range r.Contraindications {
		if !containsAny(c, isotretinoinNames) {
			continue
		}
		d, ok := dateIn(c)
		if !ok || day.IsZero() || !d.Before(addMonths(day, -6)) {
			return true
		}
	}
	return false
}

func recentSun(r *Record) bool {
	return anyMatch(r.Contraindications, sunWords) || anyMatch(r.Conditions, sunWords)
}

// positivePatchTest returns the first product of t that had a positive
// patch test on the record, or "".
func positivePatchTest(r *Record, t *Treatment) string {
	for _, p := range r.PatchTests {
		if p.Result != "positive" {
			continue
		}
		for _, prod := range t.Products {
			if strings.EqualFold(strings.TrimSpace(prod), strings.TrimSpace(p.Product)) {
				return p.Product
			}
		}
	}
	return ""
}

func serviceIs(t *Treatment, lists ...[]string) bool {
	for _, l := range lists {
		if containsAny(t.Service, l) {
			return true
		}
	}
	return false
}

func anyMatch(items, words []string) bool { return firstMatch(items, words) != "" }

func firstMatch(items, words []string) string {
	for _, it := range items {
		if containsAny(it, words) {
			return it
		}
	}
	return ""
}

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// dateIn finds a YYYY-MM-DD date in s.
func dateIn(s string) (Date, bool) {
	for i := 0; i+10 <= len(s); i++ {
		if d, err := ParseDate(s[i : i+10]); err == nil {
			return d, true
		}
	}
	return Date{}, false
}

func addMonths(d Date, n int) Date { return DateOf(d.Time().AddDate(0, n, 0)) }
