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
