// Package components holds the site's shared templ components: form fields
// with their errors, tables with empty states, pagination, flash messages and
// confirm-before-destructive buttons. Each takes a Props struct; nothing here
// reads the request or the database.
package components

// CurrentUser is the signed-in user as pages show it; nil when signed out.
type CurrentUser struct {
	ID      string
	Email   string
	Name    string
	IsAdmin bool
}

// Display is the user's name, or e-mail when the name is empty.
func (u *CurrentUser) Display() string {
	if u == nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
	FlashWarning = "warning"
)

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind string
	Text string
}

// Errors maps a form field's name to what is wrong with it.
type Errors map[string]string

// Option is one choice of a select.
type Option struct {
	Value string
	Label string
}
