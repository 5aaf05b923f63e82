import Foundation
import XCTest
@testable import Provisioner

final class TOMLReaderTests: XCTestCase {
    private func read(_ text: String) throws -> TOMLDocument { try TOMLDocument(parsing: text, file: "t.toml") }

    func testScalarsOfEveryType() throws {
        let doc = try read("""
            s = "tab\\there \\"q\\" \\u00E9 \\U0001F600 \\\\"
            lit = 'C:\\path\\n'
            dec = +1_000
            neg = -9223372036854775808
            hex = 0xDEAD_beef
            oct = 0o755
            bin = 0b1010
            f1 = 6.626e-34
            f2 = -0.0
            f3 = 1E+3_0
            pinf = +inf
            ninf = -inf
            nan = nan
            t = true
            f = false
            odt = 1979-05-27T07:32:00.999999999-07:00
            odt2 = 1979-05-27 07:32:00Z
            ldt = 1979-05-27t00:32:00.5
            ld = 1979-05-27
            lt = 07:32:00.123456789123
            """)
        XCTAssertEqual(doc["s"], "tab\there \"q\" é 😀 \\")
        XCTAssertEqual(doc["lit"], "C:\\path\\n")
        XCTAssertEqual(doc["dec"], 1000)
        XCTAssertEqual(doc["neg"]?.integer, Int64.min)
        XCTAssertEqual(doc["hex"], 0xDEAD_BEEF)
        XCTAssertEqual(doc["oct"], 0o755)
        XCTAssertEqual(doc["bin"], 10)
        XCTAssertEqual(doc["f1"]?.float, 6.626e-34)
        XCTAssertEqual(doc["f2"]?.float?.sign, .minus)
        XCTAssertEqual(doc["f3"]?.float, 1e30)
        XCTAssertEqual(doc["pinf"]?.float, .infinity)
        XCTAssertEqual(doc["ninf"]?.float, -.infinity)
        XCTAssertEqual(doc["nan"]?.float?.isNaN, true)
        XCTAssertEqual(doc["t"], true)
        XCTAssertEqual(doc["f"], false)
        let date = TOMLDate(year: 1979, month: 5, day: 27)
        XCTAssertEqual(doc["odt"]?.dateTime, .offsetDateTime(
            date, TOMLTime(hour: 7, minute: 32, second: 0, nanosecond: 999_999_999), offsetMinutes: -420))
        XCTAssertEqual(doc["odt2"]?.dateTime?.description, "1979-05-27T07:32:00Z")
        XCTAssertEqual(doc["ldt"]?.dateTime?.description, "1979-05-27T00:32:00.5")
        XCTAssertEqual(doc["ld"]?.dateTime, .localDate(date))
        XCTAssertEqual(doc["lt"]?.dateTime?.description, "07:32:00.123456789")  // truncated to nanoseconds
        XCTAssertEqual(doc.root.keys.first, "s")
        XCTAssertEqual(doc.root.keys.last, "lt")
    }

    func testMultilineStrings() throws {
        let doc = try read("a = \"\"\"\nline one\r\nline \\\n     two\"\"\"\"\"\nb = '''\n\\no escapes'' '''\nc = \"\"\"\"\"\"\n")
        XCTAssertEqual(doc["a"], "line one\nline two\"\"")
        XCTAssertEqual(doc["b"], "\\no escapes'' ")
        XCTAssertEqual(doc["c"], "")
    }

    func testKeysTablesAndArrays() throws {
        let doc = try read("""
            "quoted key" = 1
            'lit.key' = 2
            site."google.com".up = true
            3.14 = "pi"
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            [[products]]
            name = "Hammer"
            [[products]]
            [[products.parts]]
            n = 1
            [x.y] # super-table x comes later
            [x]
            z = { inline = [1, [2, "three"], { deep.er = 1.5 }], empty = {} }
            """)
        XCTAssertEqual(doc["quoted key"], 1)
        XCTAssertEqual(doc["lit.key"], 2)
        XCTAssertEqual(doc["site", "google.com", "up"], true)
        XCTAssertEqual(doc["3", "14"], "pi")
        XCTAssertEqual(doc["fruit", "apple", "color"], "red")
        XCTAssertEqual(doc["fruit", "apple", "texture", "smooth"], true)
        XCTAssertEqual(doc["products"]?.array?.count, 2)
        XCTAssertEqual(doc["products"]?.array?.first?["name"], "Hammer")
        XCTAssertEqual(doc["products"]?.array?.last?["parts"], [["n": 1]])
        XCTAssertEqual(doc["x", "z"], ["inline": [1, [2, "three"], ["deep": ["er": 1.5]]], "empty": [:]])
        XCTAssertEqual(doc["x"]?.table?.keys, ["y", "z"])
    }

    func testValuesCarryTheirPositions() throws {
        let doc = try read("# comment\n[server]\n  port = 8080\n  hosts = [\n    \"é\", \"b\" ]\n")
        XCTAssertEqual(doc["server", "port"]?.mark, SourceMark(line: 3, column: 10))
        XCTAssertEqual(doc["server"]?.mark, SourceMark(line: 2, column: 2))
        XCTAssertEqual(doc["server", "hosts"]?.mark, SourceMark(line: 4, column: 11))
        // Columns count characters, not bytes.
        XCTAssertEqual(doc["server", "hosts"]?.array?.last?.mark, SourceMark(line: 5, column: 10))
    }

    func testLineBreaksBOMAndEmptyInput() throws {
        XCTAssertEqual(try read("").root, TOMLTable())
        XCTAssertEqual(try read("\r\n# c\r\na = 1\r\n")["a"], 1)
        XCTAssertEqual(try TOMLDocument(parsing: [0xEF, 0xBB, 0xBF] + Array("a = 1".utf8))["a"], 1)
    }

    func testDeepNestingIsRejectedNotCrashed() {
        let depth = 100_000
        for text in [
            "a = " + String(repeating: "[", count: depth),
            "a = " + String(repeating: "{b=", count: depth),
            String(repeating: "a.", count: depth) + "b = 1",
            "[" + String(repeating: "a.", count: depth) + "b]",
        ] {
            XCTAssertThrowsError(try read(text)) { error in
                XCTAssertTrue("\(error)".contains("deeper than 128"), "\(error)")
            }
        }
        XCTAssertNoThrow(try read("a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)))
    }

    func testLargeInputsReadInLinearTime() throws {
        let count = 100_000
        let wide = "a = [" + (0..<count).map { "\($0)" }.joined(separator: ", ") + "]\n"
        let tall = (0..<count / 4).map { "[t\($0)]\nk = \"v\($0)\"\nd.e = \($0).5\n" }.joined()
        let start = Date()
        XCTAssertEqual(try read(wide)["a"]?.array?.count, count)
        XCTAssertEqual(try read(tall).root.count, count / 4)
        // Generous even for debug builds; quadratic behaviour would take minutes.
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }
}
