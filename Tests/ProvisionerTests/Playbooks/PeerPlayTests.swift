import Foundation
import XCTest

/// ../shared/peerbench's `podman-host.yml` runs unchanged under `provision` and
/// reaches the same end state as `ansible-playbook` (the kit's statecheck.sh).
final class PeerPlayTests: XCTestCase {
    func kit() throws -> URL {
        let shared = TestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/peerbench")
        guard FileManager.default.fileExists(atPath: shared.appendingPathComponent("ansible/podman-host.yml").path) else {
            throw XCTSkip("\(shared.path) is absent: the peer play comparison needs ../shared/peerbench")
        }
        // The kit is used from a copy, as its README says; the original stays read-only.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("provision-peerbench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(at: shared, to: copy)
        return copy
    }

    func statecheck(_ kit: URL, _ root: String) throws -> String {
        try TestSupport.run("/bin/sh", [kit.appendingPathComponent("bin/statecheck.sh").path, root]).stdout
    }

    func testPeerPlayUnchangedReachesAnsiblesEndState() throws {
        let kit = try kit()
        defer { try? FileManager.default.removeItem(at: kit) }
        let ansible = try TestSupport.ansiblePlaybook()
        let play = kit.appendingPathComponent("ansible/podman-host.yml").path
        let inventory = kit.appendingPathComponent("ansible/inventory/local.ini").path
        let ansibleRoot = kit.appendingPathComponent("root-ansible").path
        let ourRoot = kit.appendingPathComponent("root-provision").path
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_CONFIG"] = kit.appendingPathComponent("ansible/ansible.cfg").path
        environment["ANSIBLE_HOME"] = kit.appendingPathComponent(".ansible").path
        environment["ANSIBLE_LOCAL_TEMP"] = kit.appendingPathComponent(".ansible/tmp").path

        let reference = try TestSupport.run(ansible, ["-i", inventory, play, "-e", "peer_root=\(ansibleRoot)"], environment: environment)
        XCTAssertEqual(reference.status, 0, reference.stdout + reference.stderr)

        let binary = try TestSupport.provisionBinary().path
        let first = try TestSupport.run(binary, ["apply", play, "-i", inventory, "-e", "peer_root=\(ourRoot)", "--json"], environment: environment)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 12, first.stdout)
        XCTAssertEqual(try statecheck(kit, ourRoot), try statecheck(kit, ansibleRoot))

        let before = try statecheck(kit, ourRoot)
        let check = try TestSupport.run(binary, ["check", play, "-i", inventory, "-e", "peer_root=\(ourRoot)", "--json"], environment: environment)
        XCTAssertEqual(check.recap("changed"), 0, check.stdout + check.stderr)
        let second = try TestSupport.run(binary, ["apply", play, "-i", inventory, "-e", "peer_root=\(ourRoot)", "--json"], environment: environment)
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        // A converged host costs one round trip for all observations (no facts in this play).
        XCTAssertEqual(second.recap("round_trips"), 1, second.stdout)
        XCTAssertEqual(try statecheck(kit, ourRoot), before)
    }
}
