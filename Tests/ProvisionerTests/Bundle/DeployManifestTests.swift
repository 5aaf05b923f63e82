import Foundation
import XCTest
@testable import Provisioner

/// Seed 003's AirGapDeploy manifest read as written, and the play it becomes.
final class DeployManifestTests: XCTestCase {
    /// The TOML block of seed 003, as the team wrote it (skips when ../shared is absent).
    func seedManifest() throws -> String {
        let seeds = TestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/seeds")
        guard let name = try? FileManager.default.contentsOfDirectory(atPath: seeds.path).first(where: { $0.hasPrefix("003_") }),
              let text = try? String(contentsOf: seeds.appendingPathComponent(name), encoding: .utf8),
              let block = text.components(separatedBy: ".. code:: toml").dropFirst().first?.components(separatedBy: "Prepare Deployment Package").first else {
            throw XCTSkip("../shared/seeds/003_* is absent")
        }
        return block.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("   ") ? String($0.dropFirst(3)) : String($0) }.joined(separator: "\n")
    }

    func manifest(_ text: String, include: [String] = []) throws -> DeployManifest {
        try DeployManifest(TOMLDocument(parsing: text, file: "AirGapDeploy.ollama.toml").root, file: "AirGapDeploy.ollama.toml", include: include)
    }

    func testSeedPlaceholderChecksumOfARequiredModelIsRefusedWithItsLine() throws {
        XCTAssertThrowsError(try manifest(try seedManifest())) {
            XCTAssertTrue("\($0)".hasPrefix("AirGapDeploy.ollama.toml:31:19: source.checksum 'sha256:abc123...'"), "\($0)")
        }
    }

    func testSeedManifestBecomesAPlayThatValidates() throws {
        let real = String(repeating: "ab", count: 32)
        let deploy = try manifest(try seedManifest().replacingOccurrences(of: "sha256:abc123...", with: "sha256:\(real)"))
        XCTAssertEqual(deploy.components.map(\.name), ["ollama", "llama2-7b", "ollama.service"], "mistral-7b is optional and not included")
        XCTAssertEqual(deploy.components.map(\.installPath), ["/opt/ollama/bin/ollama", "/opt/ollama/models/llama2-7b.gguf", "/etc/systemd/system/ollama.service"])
        if case .url(let url, _) = deploy.components[0].source {
            XCTAssertEqual(url, "https://github.com/ollama/ollama/releases/download/v0.15.0/ollama-linux-amd64")
        } else { XCTFail("the binary comes from its GitHub release") }
        let play = deploy.playbookText
        for expected in ["group: {name: \"ollama\", system: true}", "dest: \"/opt/ollama/bin/ollama\"", "mode: \"0755\"",
                         "register: deploy_unit_ollama_service",
                         "service: {name: \"ollama.service\", state: started, enabled: true, daemon_reload: \"{{ deploy_unit_ollama_service is changed }}\"}"] {
            XCTAssertTrue(play.contains(expected), "\(expected) not in\n\(play)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString).yml")
        try play.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let validate = try TestSupport.run(try TestSupport.provisionBinary().path, ["validate", file.path])
        XCTAssertEqual(validate.status, 0, validate.stderr)
        XCTAssertTrue(validate.stdout.contains("1 play(s), 12 task(s): valid"), validate.stdout)
        XCTAssertThrowsError(try manifest(try seedManifest().replacingOccurrences(of: "sha256:abc123...", with: "sha256:\(real)"), include: ["mistral-7b"])) {
            XCTAssertTrue("\($0)".contains(":40:19: source.checksum 'sha256:def456...'"), "\($0)")
        }
    }

    func testUnknownKeysAndTypesAreRefused() throws {
        let base = "[package]\nname = \"x\"\nversion = \"1\"\n[install]\nprefix = \"/opt/x\"\n"
        XCTAssertThrowsError(try manifest(base + "[[components]]\ntype = \"container\"\nname = \"a\"\ncontent = \"\"\ninstall_path = \"a\"\n")) {
            XCTAssertTrue("\($0)".contains("component type 'container' is not one provision installs"), "\($0)")
        }
        XCTAssertThrowsError(try manifest(base + "[[components]]\ntype = \"config-file\"\nname = \"a\"\ncontent = \"x\"\ninstall_path = \"a\"\nowner = \"me\"\n")) {
            XCTAssertTrue("\($0)".contains(":11:9: components.owner is not understood"), "\($0)")
        }
    }

    func testModelChecksumMismatchFailsTheBundle() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("weights".utf8).write(to: URL(fileURLWithPath: folder + "/m.gguf"))
        let text = "[package]\nname = \"x\"\nversion = \"1\"\n[install]\nprefix = \"/opt/x\"\n[[components]]\ntype = \"model-file\"\nname = \"m\"\n"
            + "source.type = \"file\"\nsource.path = \"\(folder)/m.gguf\"\nsource.checksum = \"sha256:\(String(repeating: "0", count: 64))\"\ninstall_path = \"models/m.gguf\"\n"
        let deploy = try manifest(text)
        XCTAssertThrowsError(try deploy.writeBundle(to: folder + "/bundle", binary: "/bin/true", progress: { _ in })) {
            XCTAssertTrue("\($0)".contains("Model checksum mismatch: m:"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/bundle"))
    }
}
