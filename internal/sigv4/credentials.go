package sigv4

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// ParseCredentials reads the format of culvert's --credentials file: one key
// per line,
//
//	ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID
//
// separated by spaces or tabs. Blank lines are skipped, and '#' starts a
// comment when it begins a line or a field, so a comment may follow the
// fields.
//
// Errors name the line. A line must have exactly three fields, the access key
// id must not contain '/' (it would split the credential scope), the account
// id must be 12 digits, and an access key id may appear only once. A file
// without any key is an error too, since a server with no keys can serve
// nobody. Secrets never appear in error messages.
func ParseCredentials(r io.Reader) (Static, error) {
	keys := make(Static)
	firstLine := make(map[string]int)
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i]
				break
			}
		}
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, lineError(n, "want 3 fields (ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID), got "+strconv.Itoa(len(fields)))
		}
		c := Credential{AccessKeyID: fields[0], SecretAccessKey: fields[1], AccountID: fields[2]}
		if strings.Contains(c.AccessKeyID, "/") {
			return nil, lineError(n, "access key id "+strconv.Quote(c.AccessKeyID)+" contains '/'")
		}
		if len(c.AccountID) != 12 || !isDigits(c.AccountID) {
			return nil, lineError(n, "account id "+strconv.Quote(c.AccountID)+" is not 12 digits")
		}
		if first, dup := firstLine[c.AccessKeyID]; dup {
			return nil, lineError(n, "duplicate access key id "+strconv.Quote(c.AccessKeyID)+" (first on line "+strconv.Itoa(first)+")")
		}
		firstLine[c.AccessKeyID] = n
		keys[c.AccessKeyID] = c
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, lineError(n+1, "line too long")
	} else if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no access keys found")
	}
	return keys, nil
}

func lineError(n int, msg string) error {
	return errors.New("line " + strconv.Itoa(n) + ": " + msg)
}
