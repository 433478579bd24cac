package parts

import "gavel/views"

// untouchedAmount is the out-of-band target of a new prefilled amount: the
// amount input, unless it has the focus or the user has edited it
// (:user-valid / :user-invalid match only after user interaction).
func untouchedAmount(id int64) string {
	return "outerHTML:#" + views.AmountID(id) + ":not(:focus):not(:user-valid):not(:user-invalid)"
}
