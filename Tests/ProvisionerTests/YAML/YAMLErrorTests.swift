import XCTest
@testable import Provisioner

/// Malformed input: one error naming FILE:LINE:COL and what was expected.
final class YAMLErrorTests: XCTestCase {
    func assertError(_ yaml: String, _ location: String, _ fragment: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        assertError(Array(yaml.utf8), location, fragment, file: file, line: line)
    }

    func assertError(_ bytes: [UInt8], _ location: String, _ fragment: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let stream = try YAMLStream(bytes, file: "play.yml")
            XCTFail("accepted invalid input: \(stream.documents.count) document(s)", file: file, line: line)
        } catch let error as ParseError {
            XCTAssertEqual(error.location.description, "play.yml:\(location)", "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }

    func testUnclosedFlowCollections() {
        assertError("a: [1, 2\n", "2:1", "'[' opened at line 1, column 4 is never closed")
        assertError("a: {b: 1\n", "2:1", "'{' opened at line 1, column 4 is never closed")
    }

    func testUnterminatedStrings() {
        assertError("a: \"abc\n", "2:1", "unterminated double-quoted string (opened at line 1, column 4)")
        assertError("a: 'abc\n", "2:1", "unterminated single-quoted string")
    }

    func testMappingValueWhereNoneIsAllowed() {
        assertError("a: b: c\n", "1:5", "unexpected ':'")
        assertError("key: value\n  other: x\n", "2:8", "unexpected ':'")
    }

    func testDuplicateKeyNamesBothLines() {
        assertError("a: 1\nb: 2\na: 3\n", "3:1", "duplicate key 'a' in this mapping (first defined at line 1)")
    }

    func testBadIndentation() {
        assertError("a:\n  b: 1\n c: 2\n", "3:2", "bad indentation")
        assertError("- [a]\n  - b\n", "2:3", "bad indentation: expected '- ' at column 1")
    }

    func testTabsAsIndentation() {
        assertError("a:\n\tb: 1\n", "2:2", "tabs cannot be used for indentation")
        assertError("-\t- x\n", "1:3", "tabs cannot separate")
    }

    func testUndefinedAlias() {
        assertError("a: *x\n", "1:4", "undefined alias '*x'")
    }

    func testEscapesAndCharacters() {
        assertError("a: \"\\q\"\n", "1:6", "unknown escape")
        assertError("a: \"\\x4\"\n", "1:8", "expected 2 hexadecimal digits")
        assertError("a: \u{1}\n", "1:4", "control character 0x1")
        assertError([0x61, 0x3A, 0x20, 0xFF, 0x0A], "1:4", "invalid UTF-8")
        assertError([0x61, 0x3A, 0x20, 0xE2, 0x82], "1:4", "truncated UTF-8")
    }

    func testTagsAndMergeKeys() {
        assertError("a: !foo x\n", "1:4", "unknown tag '!foo'")
        assertError("a: !!int abc\n", "1:4", "'abc' is not an integer")
        assertError("a: !!str [x]\n", "1:4", "cannot be used on a sequence")
        assertError("a: {<<: 1}\n", "1:5", "'<<' (merge key) expects a mapping")
    }

    func testBlockScalarHeaders() {
        assertError("a: | x\n  y\n", "1:6", "expected a line break after the block scalar header")
        assertError("a: |0\n x\n", "1:5", "indentation indicator must be 1-9")
        assertError("a: |\n    \n  x\n", "2:5", "more spaces than its first text line")
    }

    func testStructureErrors() {
        assertError("a: 1\n- b\n", "2:1", "a list entry '- ' cannot follow a mapping entry")
        assertError("- a\nb: c\n", "2:1", "expected the end of the document")
        assertError("[a]: b\n", "1:1", "a mapping key must be a scalar")
        assertError("[a, , b]\n", "1:5", "empty entry in a flow sequence")
        assertError("a: [b,\nc]\n", "2:1", "must be indented at least 1 space")
        assertError("\"a\n---\nb\"\n", "2:1", "document marker cannot appear inside a quoted scalar")
    }

    func testPropertiesAndCharacters() {
        assertError("a: @x\n", "1:4", "'@' is reserved")
        assertError("a: &x *y\n", "1:4", "an alias cannot have an anchor or a tag")
        assertError("a: &x &y b\n", "1:7", "only one anchor")
        assertError("a: \"b\"#c\n", "1:7", "a comment needs a space before '#'")
        assertError("a: 'it''s' x\n", "1:12", "unexpected text after the value")
    }

    func testDirectives() {
        assertError("%YAML 1.2\nfoo\n", "2:1", "expected '---' after the directives")
        assertError("%YAML 2.0\n---\na\n", "1:10", "%YAML expects a version 1.x")
    }

    func testBillionLaughsIsRefusedNotExpanded() {
        var doc = "a: &a [" + Array(repeating: "x", count: 10).joined(separator: ",") + "]\n"
        var previous = "a"
        for name in "bcdefghij" {
            doc += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ",") + "]\n"
            previous = String(name)
        }
        assertError(doc, "6:29", "billion laughs")
    }

    func testDeepNestingIsRefused() {
        assertError(String(repeating: "[", count: 5000), "1:1000", "nesting deeper than 1000 levels")
    }
}
