package awsjson

import (
	"testing"
)

func TestErrorDefaults(t *testing.T) {
	t.Parallel()
	var apiErr APIError = &Error{Code: "X", Message: "m"}
	if got := apiErr.HTTPStatus(); got != 400 {
		t.Errorf("zero Status: HTTPStatus() = %d, want 400", got)
	}
	if got := (&Error{Code: "X", Message: "m", Status: 409}).HTTPStatus(); got != 409 {
		t.Errorf("HTTPStatus() = %d, want 409", got)
	}
	if got := (&Error{Code: "X", Message: "m"}).Error(); got != "X: m" {
		t.Errorf("Error() = %q", got)
	}
}
