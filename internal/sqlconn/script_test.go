package sqlconn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type split struct {
	Text   string
	Line   int
	Params int
}

func splitOf(t *testing.T, d Dialect, script string) []split {
	t.Helper()
	stmts, err := SplitScript(d, script)
	if err != nil {
		t.Fatalf("SplitScript(%s, %q): %v", d, script, err)
	}
	var got []split
	for _, st := range stmts {
		got = append(got, split{st.Text, st.Line, st.Params})
	}
	return got
}

func TestSplitScript(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dialect Dialect
		script  string
		want    []split
	}{
		{"plain", PostgreSQL, "SELECT 1; SELECT 2;\nSELECT 3", []split{{"SELECT 1", 1, 0}, {"SELECT 2", 1, 0}, {"SELECT 3", 2, 0}}},
		{"empty statements and trailing comments dropped", PostgreSQL, ";;\n  ;SELECT 1;;\n-- the end\n/* really */\n", []split{{"SELECT 1", 2, 0}}},
		{"leading comment kept, line of the first token", PostgreSQL, "-- make t\n-- (twice)\nCREATE TABLE t (x int);",
			[]split{{"-- make t\n-- (twice)\nCREATE TABLE t (x int)", 3, 0}}},
		{"semicolons in strings, identifiers and comments", PostgreSQL,
			"INSERT INTO \"a;b\" VALUES ('x;y', 'it''s;'); -- c;d\n/* e; /* nested; */ f; */ SELECT ';'",
			[]split{{"INSERT INTO \"a;b\" VALUES ('x;y', 'it''s;')", 1, 0}, {"-- c;d\n/* e; /* nested; */ f; */ SELECT ';'", 2, 0}}},
		{"dollar quotes", PostgreSQL,
			"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\nDO $body$ BEGIN PERFORM ';$$'; END $body$;\nSELECT $1, a$b$c FROM t",
			[]split{
				{"CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql", 1, 0},
				{"DO $body$ BEGIN PERFORM ';$$'; END $body$", 2, 0},
				{"SELECT $1, a$b$c FROM t", 3, 0}}},
		{"E strings escape with backslashes, others do not", PostgreSQL,
			`SELECT E'a\'; ?', 'b\'; SELECT ?`,
			[]split{{`SELECT E'a\'; ?', 'b\'`, 1, 0}, {"SELECT ?", 1, 1}}},
		{"placeholders, ?? is not one", PostgreSQL, "SELECT ?, '?', \"?\" /* ? */ FROM t WHERE j ?? 'k' AND x = ? -- ?\n",
			[]split{{"SELECT ?, '?', \"?\" /* ? */ FROM t WHERE j ?? 'k' AND x = ? -- ?", 1, 2}}},
		{"BEGIN ATOMIC body is one statement", PostgreSQL,
			"CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END; SELECT g(1)",
			[]split{{"CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END", 1, 0}, {"SELECT g(1)", 1, 0}}},
		{"transaction BEGIN is a statement", PostgreSQL, "BEGIN; INSERT INTO t VALUES (1); END;",
			[]split{{"BEGIN", 1, 0}, {"INSERT INTO t VALUES (1)", 1, 0}, {"END", 1, 0}}},
		{"lines counted through strings and comments", PostgreSQL, "SELECT 'a\nb';\n/*\n\n*/\nSELECT $$\n$$;\nSELECT 3",
			[]split{{"SELECT 'a\nb'", 1, 0}, {"/*\n\n*/\nSELECT $$\n$$", 6, 0}, {"SELECT 3", 8, 0}}},

		{"mysql backslash escapes in both quotes", MySQL, `INSERT INTO t VALUES ('a\';?', "b\";?"); SELECT ?`,
			[]split{{`INSERT INTO t VALUES ('a\';?', "b\";?")`, 1, 0}, {"SELECT ?", 1, 1}}},
		{"mysql comments and backticks", MySQL, "SELECT 1 # not; here\n, `a;b` -- no;\n; SELECT 2--1;\nSELECT 3",
			[]split{{"SELECT 1 # not; here\n, `a;b` -- no;", 1, 0}, {"SELECT 2--1", 3, 0}, {"SELECT 3", 4, 0}}},
		{"mysql executable comment is a statement", MySQL, "/*!40101 SET NAMES utf8 */;\n/* only a comment */;",
			[]split{{"/*!40101 SET NAMES utf8 */", 1, 0}}},
		{"mysql DELIMITER", MySQL,
			"DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\nDELIMITER ;\nCALL p();\ndelimiter $$\nCREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$",
			[]split{
				{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", 2, 0},
				{"CALL p()", 4, 0},
				{"CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END", 6, 0}}},
		{"mysql: no dollar quotes", MySQL, "SELECT '$$'; SELECT $$a;", []split{{"SELECT '$$'", 1, 0}, {"SELECT $$a", 1, 0}}},

		{"sqlite quoting", SQLite, "SELECT [a;b], `c;d`, \"e;f\", 'g;h'; SELECT ?",
			[]split{{"SELECT [a;b], `c;d`, \"e;f\", 'g;h'", 1, 0}, {"SELECT ?", 1, 1}}},
		{"sqlite trigger body is one statement", SQLite,
			"CREATE TABLE t(x);\nCREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = CASE WHEN x > 0 THEN x ELSE 0 END;\n  DELETE FROM t WHERE x IS NULL;\nEND;\nINSERT INTO t VALUES (1)",
			[]split{
				{"CREATE TABLE t(x)", 1, 0},
				{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET x = CASE WHEN x > 0 THEN x ELSE 0 END;\n  DELETE FROM t WHERE x IS NULL;\nEND", 2, 0},
				{"INSERT INTO t VALUES (1)", 6, 0}}},
		{"sqlite block comments do not nest", SQLite, "/* a /* b */ SELECT 1; */", []split{{"/* a /* b */ SELECT 1", 1, 0}, {"*/", 1, 0}}},
		{"sqlite: $ is not a quote", SQLite, "SELECT $a; SELECT 2", []split{{"SELECT $a", 1, 0}, {"SELECT 2", 1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, splitOf(t, tc.dialect, tc.script)); diff != "" {
				t.Errorf("SplitScript mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitScriptErrors(t *testing.T) {
	for _, tc := range []struct {
		dialect Dialect
		script  string
		want    string
	}{
		{PostgreSQL, "SELECT 1;\nSELECT 'abc", "line 2: string literal opened with ' is not closed"},
		{PostgreSQL, "SELECT \"abc", "line 1: quoted identifier opened with \" is not closed"},
		{PostgreSQL, "SELECT 1 /* a /* b */", "line 1: comment /* is not closed"},
		{PostgreSQL, "\n\nSELECT $x$ abc $y$", "line 3: dollar-quoted string $x$ is not closed"},
		{PostgreSQL, `SELECT E'abc\'`, "string literal opened with ' is not closed"},
		{MySQL, `SELECT 'abc\'`, "string literal opened with ' is not closed"},
		{MySQL, "SELECT `abc", "quoted identifier opened with ` is not closed"},
		{SQLite, "SELECT [abc", "quoted identifier opened with [ is not closed"},
	} {
		_, err := SplitScript(tc.dialect, tc.script)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SplitScript(%s, %q) error = %v, want %q", tc.dialect, tc.script, err, tc.want)
		}
	}
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct {
		dialect     Dialect
		query, want string
	}{
		{PostgreSQL, "SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{PostgreSQL, "  SELECT '?', \"?\", E'\\'?', $$?$$, $q$?$q$ /* ? */ -- ?\n, ? ", "  SELECT '?', \"?\", E'\\'?', $$?$$, $q$?$q$ /* ? */ -- ?\n, $1 "},
		{PostgreSQL, "SELECT j ?? 'k', j ??| array['a'], ?", "SELECT j ? 'k', j ?| array['a'], $1"},
		{PostgreSQL, "SELECT 1", "SELECT 1"},
		{PostgreSQL, "SELECT '?", "SELECT '?"},
		{PostgreSQL, "-- only ?", "-- only ?"},
		{PostgreSQL, "SELECT ?; SELECT ?", "SELECT $1; SELECT $2"},
		{MySQL, "SELECT ?, '?', \"?\", `?` # ?\n", "SELECT ?, '?', \"?\", `?` # ?\n"},
		{SQLite, "SELECT ?, '?'", "SELECT ?, '?'"},
	} {
		if got := Rebind(tc.dialect, tc.query); got != tc.want {
			t.Errorf("Rebind(%s, %q) = %q, want %q", tc.dialect, tc.query, got, tc.want)
		}
	}
}

// SplitScript and Rebind never panic, and statements are never empty.
func FuzzSplitScript(f *testing.F) {
	for _, s := range []string{
		"SELECT 1; SELECT 2", "SELECT 'a;b'", "$$;$$", "$a$;$a$;", "E'\\';'", "/* /* */ */;", "DELIMITER //\nSELECT 1//",
		"CREATE TRIGGER t BEGIN SELECT 1; END;", "BEGIN ATOMIC CASE END; END;", "?", "??", "[a;", "`a;`", "-- x\n;", "#;\n;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
			stmts, err := SplitScript(d, script)
			if err != nil {
				continue
			}
			for _, st := range stmts {
				if st.Text == "" || st.Line < 1 || st.start < 0 || st.start > len(st.Text) {
					t.Fatalf("%s: bad statement %+v", d, st)
				}
				_ = st.rebind(d)
				_ = st.excerpt()
			}
			_ = Rebind(d, script)
		}
	})
}
