package pages

import "github.com/a-h/templ"

// describedBy points a control at its error and hint, and marks it invalid
// when it has an error, so screen readers read the reason with the field.
func describedBy(id string, hasHint bool, err string) templ.Attributes {
	ids := ""
	if err != "" {
		ids = id + "-error"
	}
	if hasHint {
		if ids != "" {
			ids += " "
		}
		ids += id + "-hint"
	}
	a := templ.Attributes{}
	if ids != "" {
		a["aria-describedby"] = ids
	}
	if err != "" {
		a["aria-invalid"] = "true"
	}
	return a
}
