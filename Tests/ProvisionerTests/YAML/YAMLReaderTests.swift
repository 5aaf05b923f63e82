import XCTest
@testable import Provisioner

/// What documents mean: PyYAML's (Ansible's) YAML 1.1 scalars, and structure.
final class YAMLReaderTests: XCTestCase {
    func json(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            return try YAMLJSON.render(Array(yaml.utf8), file: "t.yml").trimmingCharacters(in: .newlines)
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return ""
        }
    }

    func testYAML11BooleansAndNulls() {
        XCTAssertEqual(json("[yes, No, ON, off, true, FALSE, y, n, ~, null, Null, '', ]"),
                       #"[true,false,true,false,true,false,"y","n",null,null,null,""]"#)
    }

    func testYAML11Integers() {
        XCTAssertEqual(json("[0755, 0o17, 0x1F, 0b1010, 1_000, -0, +12, 1:30, 190:20:30, 08, 0_, -9223372036854775808]"),
                       #"[493,"0o17",31,10,1000,0,12,90,685230,"08",0,-9223372036854775808]"#)
    }

    func testYAML11Floats() {
        XCTAssertEqual(json("[1.5, 1e5, 1.5e3, 1.0e+3, .5, -.5, 1., .inf, -.Inf, 1_0.5, 1:30.5]"),
                       #"[1.5,"1e5","1.5e3",1000.0,0.5,"-.5",1.0,Infinity,-Infinity,10.5,90.5]"#)
        XCTAssertEqual(json(".nan"), "NaN")
    }

    func testTimestampsReadAsPythonPrintsThem() {
        XCTAssertEqual(json("[2020-01-01, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43Z, 2020-13-01]"),
                       #"["2020-01-01","2001-12-14 21:59:43.100000-05:00","2001-12-14 21:59:43+00:00","2020-13-01"]"#)
    }

    func testExplicitTags() {
        XCTAssertEqual(json(#"[!!str 0755, !!int "8080", !!float 1, !!bool yes, !!null x, ! 12, !unsafe "{{ x }}"]"#),
                       #"["0755",8080,1.0,true,null,"12","{{ x }}"]"#)
    }

    func testQuotedScalarsAreStrings() {
        XCTAssertEqual(json(#"['yes', "0755", 'it''s', "tab\there\u00e9\x41\/"]"#), #"["yes","0755","it's","tab\there\#u{e9}A/"]"#)
    }

    func testMultiLineFolding() {
        XCTAssertEqual(json("a: one\n  two\n\n  three\n"), #"{"a":"one two\nthree"}"#)
        XCTAssertEqual(json("a: \"x \\\n   y\"\n"), #"{"a":"x y"}"#)
    }

    func testBlockScalarsWithIndicators() {
        XCTAssertEqual(json("a: |\n  x\n   y\n\n"), #"{"a":"x\n y\n"}"#)
        XCTAssertEqual(json("a: >-\n  x\n  y\n\n  z\n"), #"{"a":"x y\nz"}"#)
        XCTAssertEqual(json("a: |+\n  x\n\n"), #"{"a":"x\n\n"}"#)
        XCTAssertEqual(json("- |2-\n   x\n"), #"[" x"]"#)
        XCTAssertEqual(json("a: >\n  x\n    more\n  y\n"), #"{"a":"x\n  more\ny\n"}"#)
    }

    func testAnchorsAliasesAndMergeKeys() {
        let doc = """
        base: &b {x: 1, y: 2}
        other: &o {y: 3, z: 4}
        merged:
          <<: [*b, *o]
          x: 0
        """
        XCTAssertEqual(json(doc), #"{"base":{"x":1,"y":2},"other":{"y":3,"z":4},"merged":{"y":2,"z":4,"x":0}}"#)
    }

    func testFlowCollectionsAndCompactForms() {
        XCTAssertEqual(json("[a, {b: c}, [d], e: f, \"g\":h]"), #"["a",{"b":"c"},["d"],{"e":"f"},{"g":"h"}]"#)
        XCTAssertEqual(json("- - a\n  - b\n- k: v\n  l: w\n"), #"[["a","b"],{"k":"v","l":"w"}]"#)
        XCTAssertEqual(json("k:\n- a\n- b\nl: 1\n"), #"{"k":["a","b"],"l":1}"#)
    }

    func testNonStringKeysAsJSONDumpsWritesThem() {
        XCTAssertEqual(json("{1: a, yes: b, ~: c, 1.5: d}"), #"{"1":"a","true":"b","null":"c","1.5":"d"}"#)
    }

    func testKeysDifferingOnlyInNormalizationAreDistinct() {
        XCTAssertEqual(json("{\"e\\u0301\": 1, \"\\u00e9\": 2}"), "{\"e\u{301}\":1,\"\u{e9}\":2}")
    }

    func testDocumentsBOMAndCRLF() {
        XCTAssertEqual(json("\u{FEFF}a: 1\r\nb: 2\r\n"), #"{"a":1,"b":2}"#)
        XCTAssertEqual(json("--- 1\n--- 2\n...\n---\n"), "1\n2\nnull")
        XCTAssertEqual(json("# only a comment\n"), "")
    }

    func testPositionsOfNodes() throws {
        let stream = try YAMLStream("play:\n  - name: x\n    tasks: [a, 'b']\n", file: "p.yml")
        let task = try XCTUnwrap(stream.documents.first?["play"]?.items?.first)
        XCTAssertEqual(task.mark, SourceMark(line: 2, column: 5))
        let tasks = try XCTUnwrap(task["tasks"]?.items)
        XCTAssertEqual(tasks.map(\.mark), [SourceMark(line: 3, column: 13), SourceMark(line: 3, column: 16)])
        XCTAssertEqual(stream.location(of: tasks[1]).description, "p.yml:3:16")
    }
}
