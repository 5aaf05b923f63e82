import XCTest
@testable import Provisioner

final class JSONWriterTests: XCTestCase {
    func testEscapesControlCharactersQuotesAndBackslashes() {
        var w = JSONWriter()
        w.string("a\"b\\c\n\u{1}\u{7F}é")
        XCTAssertEqual(w.text, "\"a\\\"b\\\\c\\n\\u0001\\u007fé\"")
    }

    func testFloatsAreWrittenAsPythonReadsThem() {
        XCTAssertEqual(JSONWriter.pythonFloatText(.nan), "NaN")
        XCTAssertEqual(JSONWriter.pythonFloatText(-.infinity), "-Infinity")
        XCTAssertEqual(JSONWriter.pythonFloatText(1e300), "1e+300")
        XCTAssertEqual(JSONWriter.pythonFloatText(100), "100.0")
    }
}

/// The quoting shared by the inventory listing (Python's json) and TOML's basic strings.
final class QuotedStringTests: XCTestCase {
    func testPythonJSONAndTOMLFlavours() {
        let text = "a\"b\\c\u{08}\t\n\u{0C}\r\u{1B}\u{7F}é"
        var python = ""
        QuotedString.write(text, to: &python)
        XCTAssertEqual(python, "\"a\\\"b\\\\c\\b\\t\\n\\f\\r\\u001b\u{7F}é\"")
        XCTAssertEqual(TOMLWriter.quoted(text), "\"a\\\"b\\\\c\\b\\t\\n\\f\\r\\u001B\\u007Fé\"")
    }
}
