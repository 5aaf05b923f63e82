import Foundation
import XCTest

/// The real `provision debug yaml` against suites nobody on the team wrote
/// (../shared/conformance). Skips cleanly when that folder is absent.
final class YAMLConformanceTests: XCTestCase {
    /// The cases we knowingly read differently, each with its reason in Tests/CONFORMANCE.md.
    func knownFailures() throws -> Set<String> {
        let notes = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("Tests/CONFORMANCE.md"), encoding: .utf8)
        return Set(notes.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        })
    }

    func yamlDiff(_ arguments: [String]) throws -> TestSupport.Result {
        let conformance = try TestSupport.conformanceFolder()
        let binary = try TestSupport.provisionBinary()
        guard let python = TestSupport.which("python3") else { throw XCTSkip("python3 is not installed") }
        return try TestSupport.run(python, [conformance.appendingPathComponent("yaml_diff.py").path]
            + arguments + ["--", binary.path, "debug", "yaml"], in: conformance)
    }

    func testYAMLSuiteSubset() throws {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-suite-\(UUID().uuidString).tsv")
        defer { try? FileManager.default.removeItem(at: report) }
        let result = try yamlDiff(["yaml-suite", "--list", "yaml-suite/SUBSET-provisioner.txt", "--report", report.path])
        let rows = try String(contentsOf: report, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: "\t") }
        XCTAssertEqual(rows.count, 318, result.stdout + result.stderr)
        let failed = Set(rows.filter { $0[1] != "pass" }.map { String($0[0]) })
        XCTAssertGreaterThanOrEqual(318 - failed.count, 312, result.stdout)
        XCTAssertEqual(failed.subtracting(try knownFailures()), [], "failures not explained in Tests/CONFORMANCE.md\n" + result.stdout)
    }

    func testDifferentialFuzzAgainstPyYAML() throws {
        let neutral = try yamlDiff(["--fuzz", "800", "--seed", "ci-1"])
        XCTAssertEqual(neutral.status, 0, neutral.stdout + neutral.stderr)
        XCTAssertTrue(neutral.stdout.contains("failed 0"), neutral.stdout)
        let yaml11 = try yamlDiff(["--fuzz", "400", "--seed", "ci-2", "--schema", "yaml11", "--multidoc"])
        XCTAssertEqual(yaml11.status, 0, yaml11.stdout + yaml11.stderr)
    }
}
