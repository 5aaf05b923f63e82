import Foundation
import XCTest
@testable import Provisioner

/// Edits copies of the distribution's container configuration with TOMLEditor and
/// has the real `podman info` read them. Skips without podman unless
/// PROVISION_REQUIRE_INTEGRATION=1 (as in CI), where a missing podman is a failure.
final class TOMLPodmanIntegrationTests: XCTestCase {
    private var workDir: URL?

    override func tearDownWithError() throws {
        if let workDir { try? FileManager.default.removeItem(at: workDir) }
    }

    func testPodmanReadsEditedConfiguration() throws {
        let podman = try PodmanTestSupport.requirePodman()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("provision-toml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        workDir = dir
        let graphroot = dir.appendingPathComponent("graph").path
        let runroot = dir.appendingPathComponent("run").path
        let tmpDir = dir.appendingPathComponent("libpod-tmp").path

        let storage = try edit(
            original("/usr/share/containers/storage.conf", fallback: "# storage.conf\n[storage]\ndriver = \"overlay\"\n"),
            name: "storage.conf", in: dir, keys: ["graphroot", "runroot"]
        ) { editor in
            try editor.set("graphroot", to: .string(graphroot), in: ["storage"])
            try editor.set("runroot", to: .string(runroot), in: ["storage"])
        }
        let registries = try edit(
            original("/etc/containers/registries.conf", fallback: "# registries.conf\n"), name: "registries.conf", in: dir,
            keys: ["unqualified-search-registries", "prefix", "location", "insecure"], repeatable: false
        ) { editor in
            try editor.set("unqualified-search-registries", to: ["registry.example.test"])
            try editor.appendTable([
                "prefix": "registry.example.test", "location": "mirror.example.test:5000", "insecure": true,
            ], to: ["registry"])
        }
        let containers = try edit(
            original("/usr/share/containers/containers.conf", fallback: "# containers.conf\n[containers]\n[engine]\n"),
            name: "containers.conf", in: dir, keys: ["runtime", "cgroup_manager", "tmp_dir", "default_ulimits"]
        ) { editor in
            try editor.set("runtime", to: "runc", in: ["engine"])
            try editor.set("cgroup_manager", to: "cgroupfs", in: ["engine"])
            try editor.set("tmp_dir", to: .string(tmpDir), in: ["engine"])
            // systemd is not PID 1 in CI containers: without explicit ulimits podman asks it.
            try editor.set("default_ulimits", to: ["nofile=1024:1024", "nproc=1024:1024"], in: ["containers"])
        }

        let output = try PodmanTestSupport.run(podman, ["info", "--format", "json"], environment: [
            "CONTAINERS_CONF": containers.path,
            "CONTAINERS_REGISTRIES_CONF": registries.path,
            "CONTAINERS_STORAGE_CONF": storage.path,
        ])
        let info = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any])
        let store = try XCTUnwrap(info["store"] as? [String: Any])
        let host = try XCTUnwrap(info["host"] as? [String: Any])
        let runtime = try XCTUnwrap(host["ociRuntime"] as? [String: Any])
        let registryInfo = try XCTUnwrap(info["registries"] as? [String: Any])
        XCTAssertEqual(store["graphRoot"] as? String, graphroot)
        XCTAssertEqual(store["runRoot"] as? String, runroot)
        XCTAssertEqual(runtime["name"] as? String, "runc")
        XCTAssertEqual(host["cgroupManager"] as? String, "cgroupfs")
        XCTAssertEqual(registryInfo["search"] as? [String], ["registry.example.test"])
        let registry = try XCTUnwrap(registryInfo["registry.example.test"] as? [String: Any])
        XCTAssertEqual(registry["Location"] as? String, "mirror.example.test:5000")
        XCTAssertEqual(registry["Insecure"] as? Bool, true)
    }

    // MARK: Helpers

    private func original(_ path: String, fallback: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? fallback
    }

    /// Edits `text`, writes it to `dir/name`, and checks that the edit touched
    /// nothing else: the original lines survive in order, and every line removed
    /// or added is an assignment of one of `keys` (or a blank line or header added).
    private func edit(_ text: String, name: String, in dir: URL, keys: Set<String>, repeatable: Bool = true,
                      _ body: (inout TOMLEditor) throws -> Void) throws -> URL {
        var editor = try TOMLEditor(text: text, file: name)
        try body(&editor)
        XCTAssertTrue(editor.isChanged, name)
        let edited = editor.text
        let (removed, added) = lineDiff(text, edited)
        for line in removed {
            XCTAssertTrue(isAssignment(line, ofOneOf: keys), "\(name): unexpected removed line \(line)")
        }
        for line in added where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            XCTAssertTrue(line.hasPrefix("[") || isAssignment(line, ofOneOf: keys), "\(name): unexpected added line \(line)")
        }
        for key in keys {
            XCTAssertTrue(added.contains { isAssignment($0, ofOneOf: [key]) }, "\(name): \(key) was not written")
        }
        if repeatable {
            var again = try TOMLEditor(text: edited, file: name)
            try body(&again)
            XCTAssertFalse(again.isChanged, "\(name): repeating the same edits changed the file")
        }
        let url = dir.appendingPathComponent(name)
        try Data(edited.utf8).write(to: url)
        return url
    }

    private func isAssignment(_ line: String, ofOneOf keys: Set<String>) -> Bool {
        guard let equals = line.firstIndex(of: "=") else { return false }
        return keys.contains(line[..<equals].trimmingCharacters(in: .whitespaces))
    }

    /// Lines only in `old` and only in `new`, by longest common subsequence.
    private func lineDiff(_ old: String, _ new: String) -> (removed: [String], added: [String]) {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var removed: [String] = [], added: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                added.append(b[j])
                j += 1
            } else {
                removed.append(a[i])
                i += 1
            }
        }
        return (removed, added)
    }
}
