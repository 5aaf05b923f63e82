import XCTest
@testable import Provisioner

/// Malformed input is rejected with `FILE:LINE:COL: what was expected`.
final class TOMLReaderErrorTests: XCTestCase {
    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TOMLDocument(parsing: text, file: "conf.toml"), file: file, line: line) { error in
            XCTAssertTrue(error is ParseError, "\(type(of: error))", file: file, line: line)
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testSyntaxErrors() {
        assertError("a = 1\nb 2", "conf.toml:2:3: expected '=' after the key, found '2'")
        assertError("a = \n", "conf.toml:1:5: expected a value, found the end of the line")
        assertError("a = yes", "conf.toml:1:5: expected a value, found 'yes' (strings need quotes; booleans are true and false)")
        assertError("a = 1 2", "conf.toml:1:7: expected the end of the line, found '2'")
        assertError("[tbl\nx = 1", "conf.toml:1:5: expected ']' to close the table header, found the end of the line")
        assertError("x = [1 2]", "conf.toml:1:8: expected ',' or ']' in the array, found '2'")
        assertError("x = {a = 1,}", "conf.toml:1:12: a trailing comma is not allowed in an inline table")
        assertError("x = {a = 1\n}", "conf.toml:1:11: expected ',' or '}' in the inline table, found the end of the line")
        assertError("= 1", "conf.toml:1:1: expected a key, found '='")
        assertError("a = \"\"\"x", "conf.toml:1:9: unterminated multi-line string: expected \"\"\"")
    }

    func testStringErrors() {
        assertError("s = \"abc", "conf.toml:1:9: unterminated string: expected '\"'")
        assertError("s = \"a\\qb\"", "conf.toml:1:7: invalid escape sequence '\\q'")
        assertError("s = \"\\uD800\"", "conf.toml:1:6: escape '\\u' names U+D800, which is not a Unicode scalar value")
        assertError("s = 'a\u{7F}'", "conf.toml:1:7: control character U+007F is not allowed in a literal string")
        assertError("s = \"\"\"\na\\ b\"\"\"", "conf.toml:2:2: invalid escape sequence '\\ '")
    }

    func testNumberAndDateErrors() {
        assertError("n = 9223372036854775808", "conf.toml:1:5: invalid number '9223372036854775808': it does not fit in 64 bits")
        assertError("n = 0123", "conf.toml:1:5: invalid number '0123': leading zeros are not allowed")
        assertError("n = 1__0", "conf.toml:1:5: invalid number '1__0': unexpected '_'")
        assertError("n = -0x10", "conf.toml:1:5: invalid number '-0x10': hexadecimal, octal and binary integers take no sign")
        assertError("n = 1.", "conf.toml:1:5: invalid number '1.': expected digits after the decimal point")
        assertError("d = 2021-02-29", "conf.toml:1:5: invalid date: no day 29 in month 2 of 2021")
        assertError("d = 2021-01-01T25:00:00", "conf.toml:1:16: invalid time: 25:0:0 is out of range")
        assertError("d = 07:32", "conf.toml:1:10: expected ':' after the minute (TOML 1.0 requires seconds), found the end of the file")
    }

    func testRedefinitionErrors() {
        assertError("a = 1\na = 2", "conf.toml:2:1: duplicate key 'a', first defined at line 1, column 5")
        assertError("[t]\n[t]", "conf.toml:2:2: table [t] is already defined at line 1, column 2")
        assertError("[t]\nx.y = 1\n[t.x]", "conf.toml:3:4: table [t.x] is already defined by dotted keys at line 2, column 1")
        assertError("a = {b = 1}\na.c = 2", "conf.toml:2:1: key 'a' is already an inline table (defined at line 1, column 5), not a table")
        assertError("a = {b = 1}\n[a.c]", "conf.toml:2:2: key 'a' is already an inline table (defined at line 1, column 5), not a table")
        assertError("[[a]]\n[a]", "conf.toml:2:2: [a] is already an array of tables, defined at line 1, column 3")
        assertError("a = []\n[[a]]", "conf.toml:2:3: key 'a' is already an array (defined at line 1, column 5); [[a]] cannot extend it")
        assertError("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "conf.toml:4:3: dotted keys cannot add to table 'b.c', defined at line 1, column 6")
        assertError("[a]\nb.c = 1\n[x]\n[a.b]", "conf.toml:4:4: table [a.b] is already defined by dotted keys at line 2, column 1")
    }

    func testEncodingAndControlCharacterErrors() {
        XCTAssertThrowsError(try TOMLDocument(parsing: Array("a = 1\n# caf".utf8) + [0xC3, 0x28], file: "conf.toml")) {
            XCTAssertEqual("\($0)", "conf.toml:2:6: invalid UTF-8 (byte 0xC3); TOML files must be UTF-8")
        }
        XCTAssertThrowsError(try TOMLDocument(parsing: Array("a = \"".utf8) + [0xED, 0xA0, 0x80, 0x22], file: "conf.toml")) {
            XCTAssertEqual("\($0)", "conf.toml:1:6: invalid UTF-8 (byte 0xED); TOML files must be UTF-8")
        }
        assertError("a = 1 # bell\u{07}", "conf.toml:1:13: control character U+0007 is not allowed in a comment")
        assertError("a = 1\r", "conf.toml:1:6: a carriage return must be followed by a line feed")
        assertError("a\u{3000}= 1", "conf.toml:1:2: expected '=' after the key, found '\u{3000}' (U+3000)")
    }
}
