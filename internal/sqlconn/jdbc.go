package sqlconn

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// jdbcURL is a parsed JDBC connection string. No Go library parses them,
// so this follows the drivers' own documented forms:
//
//	jdbc:postgresql://host[:port][,host[:port]…]/[database][?props]
//	jdbc:postgresql:database   jdbc:postgresql:/
//	jdbc:redshift://host[:port]/database[?props]
//	jdbc:mysql://[user[:password]@]host[:port]/[database][?props]  (also mariadb)
//	jdbc:sqlite:path[?props]   jdbc:sqlite::memory:
type jdbcURL struct {
	sub      string // subprotocol, lower case: postgresql, redshift, mysql, mariadb, sqlite
	hosts    []hostPort
	database string // or the SQLite path
	user     string // from userinfo
	password string // from userinfo
	props    []prop // query parameters, in order
}

type hostPort struct {
	host string
	port int
}

type prop struct{ name, value string }

// defaultPorts are the drivers' defaults.
var defaultPorts = map[string]int{"postgresql": 5432, "redshift": 5439, "mysql": 3306, "mariadb": 3306}

// parseJDBC parses a JDBC connection string. Its errors never quote the
// string or its address part, which may hold a password (even in a place
// meant for something else, when it is not %-escaped).
func parseJDBC(s string) (jdbcURL, error) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "jdbc:") {
		return jdbcURL{}, errors.New("connectionString does not begin with jdbc:")
	}
	sub, rest, ok := strings.Cut(s[5:], ":")
	if !ok {
		return jdbcURL{}, errors.New("connectionString has no jdbc:<subprotocol>: prefix")
	}
	u := jdbcURL{sub: strings.ToLower(sub)}
	switch u.sub {
	case "postgresql", "redshift", "mysql", "mariadb":
	case "sqlite":
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return jdbcURL{}, errors.New("connectionString jdbc:sqlite: has no file path (use jdbc:sqlite::memory: for a database in memory)")
		}
		u.database = path
		var err error
		u.props, err = parseQuery(query)
		return u, err
	default:
		return jdbcURL{}, fmt.Errorf("connectionString subprotocol %q is not supported: culvert connects to postgresql, redshift, mysql, mariadb and sqlite", u.sub)
	}
	if u.sub == "redshift" && strings.HasPrefix(strings.ToLower(rest), "iam:") {
		return jdbcURL{}, errors.New("connectionString jdbc:redshift:iam: asks for IAM authentication, which needs AWS; use jdbc:redshift:// with username and *password")
	}
	rest, query, _ := strings.Cut(rest, "?")
	var err error
	if u.props, err = parseQuery(query); err != nil {
		return jdbcURL{}, err
	}
	authority, hasAuthority := strings.CutPrefix(rest, "//")
	if !hasAuthority {
		// Only PostgreSQL's driver takes a database without a host
		// (jdbc:postgresql:db, jdbc:postgresql:/), meaning localhost.
		if u.sub != "postgresql" {
			return jdbcURL{}, fmt.Errorf("connectionString jdbc:%s: needs //host after the subprotocol", u.sub)
		}
		u.hosts = []hostPort{{"localhost", defaultPorts[u.sub]}}
		u.database, err = unescapePath(strings.TrimPrefix(rest, "/"))
		return u, err
	}
	authority, path, _ := strings.Cut(authority, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, password, _ := strings.Cut(userinfo, ":")
		if u.user, err = url.PathUnescape(user); err != nil {
			return jdbcURL{}, errors.New("connectionString has a bad %-escape in its user name")
		}
		if u.password, err = url.PathUnescape(password); err != nil {
			return jdbcURL{}, errors.New("connectionString has a bad %-escape in its password")
		}
	}
	if u.hosts, err = parseHosts(authority, defaultPorts[u.sub]); err != nil {
		return jdbcURL{}, err
	}
	u.database, err = unescapePath(path)
	return u, err
}

func unescapePath(p string) (string, error) {
	s, err := url.PathUnescape(p)
	if err != nil {
		return "", errors.New("connectionString has a bad %-escape in its database name")
	}
	return s, nil
}

// parseHosts parses "h1[:p1],h2[:p2]…"; IPv6 addresses are bracketed. An
// empty list means localhost, as the drivers take it.
func parseHosts(s string, defaultPort int) ([]hostPort, error) {
	if s == "" {
		return []hostPort{{"localhost", defaultPort}}, nil
	}
	var hosts []hostPort
	for _, hp := range strings.Split(s, ",") {
		if strings.ContainsAny(hp, "()=") {
			return nil, errors.New("connectionString: only host[:port] addresses are supported")
		}
		host, port := hp, ""
		if strings.HasPrefix(hp, "[") {
			end := strings.Index(hp, "]")
			if end < 0 {
				return nil, errors.New("connectionString has an unclosed [ in a host address")
			}
			host, port = hp[1:end], hp[end+1:]
			if port != "" && !strings.HasPrefix(port, ":") {
				return nil, errors.New("connectionString has text after ] in a host address other than :port")
			}
			port = strings.TrimPrefix(port, ":")
		} else if i := strings.LastIndex(hp, ":"); i >= 0 {
			host, port = hp[:i], hp[i+1:]
		}
		if host == "" {
			return nil, errors.New("connectionString has an address with no host name")
		}
		n := defaultPort
		if port != "" {
			var err error
			if n, err = strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, errors.New("connectionString has a port that is not a number from 1 to 65535")
			}
		}
		hosts = append(hosts, hostPort{host, n})
	}
	return hosts, nil
}

// parseQuery parses JDBC URL properties, "a=b&c=d", %-decoded as the
// drivers do.
func parseQuery(q string) ([]prop, error) {
	var props []prop
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, errors.New("connectionString has a bad %-escape in a property name")
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("connectionString property %q has a bad %%-escape in its value", n)
		}
		props = append(props, prop{n, v})
	}
	return props, nil
}
