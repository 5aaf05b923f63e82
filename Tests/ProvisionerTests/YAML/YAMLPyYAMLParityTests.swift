import Foundation
import XCTest
@testable import Provisioner

/// Shapes real roles ship that PyYAML (and so Ansible) reads one way: block scalars that end the
/// input without a line break, and closing brackets of flow collections at the indentation of the
/// block that holds them. Values as PyYAML 6 gives them; the last test asks PyYAML itself.
final class YAMLPyYAMLParityTests: XCTestCase {
    func json(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            return try YAMLJSON.render(Array(yaml.utf8), file: "vars.yml").trimmingCharacters(in: .newlines)
        } catch {
            XCTFail("\(yaml.debugDescription): \(error)", file: file, line: line)
            return ""
        }
    }

    /// The end of input is no line break: nothing is added for it, whatever the chomping.
    func testBlockScalarEndingTheInputGainsNoLineBreak() {
        let cases: [(String, String)] = [
            ("a: |\n  text", #"{"a":"text"}"#),
            ("a: >\n  text", #"{"a":"text"}"#),
            ("a: |+\n  text", #"{"a":"text"}"#),
            ("a: |-\n  text", #"{"a":"text"}"#),
            ("a: >\n  one\n  two", #"{"a":"one two"}"#),
            ("- |\n  first\n  second", #"["first\nsecond"]"#),
            // A last line of spaces without a break is neither an empty line nor content.
            ("a: |+\n  text\n  ", #"{"a":"text\n"}"#),
            ("a: |+\n  text\n\n  ", #"{"a":"text\n\n"}"#),
            ("a: |\n  text\n\n  ", #"{"a":"text\n"}"#),
            ("a: |+\n  ", #"{"a":""}"#),
            // ... unless it is indented more: then it is content, still without a break.
            ("a: |\n  text\n   ", #"{"a":"text\n "}"#),
            // With the final break, as before.
            ("a: |\n  text\n", #"{"a":"text\n"}"#),
            ("a: |+\n  text\n\n", #"{"a":"text\n\n"}"#),
            ("a: |+\n\n", #"{"a":"\n"}"#),
            ("a: |-\n  text\n\n", #"{"a":"text"}"#),
        ]
        for (yaml, expected) in cases {
            XCTAssertEqual(json(yaml), expected, yaml.debugDescription)
        }
    }

    /// A vars file in the shape real roles ship: the closing bracket at the sequence's indent.
    func testClosingBracketAtTheIndentOfTheBlockThatHoldsIt() {
        let vars = """
        users:
          - { name: alice,
              groups: [wheel, podman]
          }
          - { name: bob,
              groups: [podman
          ]}
        settings: {
          engine: crun,
          subnet: 10.90.0.0/16
        }
        after: 1
        """
        XCTAssertEqual(json(vars), #"{"users":[{"name":"alice","groups":["wheel","podman"]},"#
            + #"{"name":"bob","groups":["podman"]}],"settings":{"engine":"crun","subnet":"10.90.0.0/16"},"after":1}"#)
        XCTAssertEqual(json("- {a: {x: 1\n}, b: 2}\n"), #"[{"a":{"x":1},"b":2}]"#)
        XCTAssertEqual(json("a:\n  b: [1,\n]\nc: 2\n"), #"{"a":{"b":[1]},"c":2}"#)
    }

    /// Content lines keep the spec's rule (the YAML suite's 9C9N and QB6E must be rejected), and a
    /// document marker still cannot sit inside a collection.
    func testUnderIndentedContentInFlowStaysAnError() {
        XCTAssertThrowsError(try YAMLStream("items:\n  - {a: 1,\n  b: 2}\n", file: "vars.yml")) { error in
            XCTAssertTrue("\(error)".contains("vars.yml:3:3: this line of a flow collection must be indented at least 3 space(s)"),
                          "\(error)")
        }
        XCTAssertThrowsError(try YAMLStream("a: [1,\n---\n]\n", file: "vars.yml")) { error in
            XCTAssertTrue("\(error)".contains("document marker cannot appear inside a flow collection"), "\(error)")
        }
    }

    /// Both shapes, in every combination of block scalar header, trailing lines and nesting, and
    /// flow collections closed at each indentation, read by PyYAML and by `provision debug yaml`
    /// through the shared conformance runner (../shared/conformance/yaml_diff.py).
    func testAgreesWithPyYAMLOnTheseShapes() throws {
        let conformance = try TestSupport.conformanceFolder()
        let binary = try TestSupport.provisionBinary()
        guard let python = TestSupport.which("python3"), try TestSupport.run(python, ["-c", "import yaml"]).status == 0 else {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
                XCTFail("PyYAML is not installed (scripts/test.sh installs it)")
            }
            throw XCTSkip("python3 with PyYAML is not installed")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var cases: [String] = []
        let bodies = ["text", "text\n", "a\n\nb", "a\n more\nb", "a\n", "a\n\n", ""]
        let tails = ["", "  ", "   ", " \n "]
        for (prefix, indent) in [("a: ", 2), ("- ", 2), ("x:\n  y: ", 4), ("- - ", 4)] {
            for header in ["|", ">", "|+", "|-", ">+", "|2-"] {
                for body in bodies {
                    for tail in tails {
                        let pad = String(repeating: " ", count: indent)
                        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
                            .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
                        cases.append(prefix + header + "\n" + lines + tail.replacingOccurrences(of: "  ", with: pad))
                    }
                }
            }
        }
        for close in ["", " ", "  ", "    "] {
            cases.append("items:\n  - {a: 1,\n     b: [x,\n      y\n\(close)]\n\(close)}\n  - z\n")
            cases.append("k: {\n  a: 1\n\(close)}\nl: [\n  1\n\(close)]\n")
            cases.append("- name: t\n  vars: {\n    a: [1,\n\(close)], b: 2\n\(close)}\n")
        }
        for (index, text) in cases.enumerated() {
            try Data(text.utf8).write(to: folder.appendingPathComponent("case\(index).yml"))
        }
        // PyYAML's reading becomes each case's expected JSON; the cases PyYAML rejects are dropped.
        let reference = """
            import glob, json, os, sys, yaml
            for path in glob.glob(os.path.join(sys.argv[1], "*.yml")):
                try:
                    docs = list(yaml.safe_load_all(open(path, "rb").read()))
                except yaml.YAMLError:
                    os.remove(path)
                    continue
                with open(path[:-4] + ".json", "w") as out:
                    out.write("".join(json.dumps(d) + "\\n" for d in docs))
            """
        let prepared = try TestSupport.run(python, ["-c", reference, folder.path])
        XCTAssertEqual(prepared.status, 0, prepared.stderr)
        let compared = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yml") }.count
        XCTAssertGreaterThan(compared, cases.count * 9 / 10, "PyYAML rejected more of the cases than expected")

        let result = try TestSupport.run(python, [conformance.appendingPathComponent("yaml_diff.py").path, folder.path,
                                                  "--", binary.path, "debug", "yaml"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("passed \(compared), failed 0"), result.stdout)
    }
}
