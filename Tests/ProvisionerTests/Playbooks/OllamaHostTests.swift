import Foundation
import XCTest

/// playbooks/ollama.yml, ollama-backup.yml and ollama-restore.yml on a nested Debian trixie test host over ssh,
/// with the Ollama STAND-IN (image archive and registry, testhosts/ollama-standin/): --check on the fresh host
/// lists every change and touches nothing; apply converges; both servers answer /api/tags on their ports from
/// the host with their models, as subordinate ids of the ollama account; the milestones' checks pass; a
/// second apply changes nothing and pulls nothing (the registry's request log); after the host restarts both
/// come back with their models; a model volume backed up, destroyed and restored lists its model with no pull;
/// a damaged archive is refused with nothing changed; a server removed from the list is removed with its
/// models kept (or purged), and one added back from a model store folder is imported with no network; a
/// server on a port in use fails with podman's own error.
final class OllamaHostTests: XCTestCase {
    static let playbooks = TestSupport.packageRoot.appendingPathComponent("playbooks").path

    func testOllamaServersLifecycle() throws {
        let host = try OllamaTestHost()
        let scratch = try Scratch()
        defer { scratch.remove() }
        try host.prepare()
        try host.startRegistry()
        let inventory = try host.inventory(in: scratch)
        func play(_ name: String, _ extra: [String] = [], check: Bool = false, tags: String? = nil) throws -> TestSupport.Result {
            let started = Date()
            let result = try scratch.provision([check ? "check" : "apply", OllamaHostTests.playbooks + "/" + name, "-i", inventory, "--json"]
                                               + (tags.map { ["--tags", $0] } ?? []) + extra.flatMap { ["-e", $0] })
            print("ollama: \(name) \(check ? "--check " : "")\(tags.map { "--tags \($0) " } ?? "")\(extra.joined(separator: " ")): "
                  + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s, changed=\(result.recap("changed")), status \(result.status)")
            return result
        }
        func changed(_ result: TestSupport.Result) -> [String] {
            result.tasks.filter { $0["status"] as? String == "changed" }.flatMap { $0["changes"] as? [String] ?? [] }
        }

        // --check on the fresh host: every change listed, nothing touched.
        let fresh = try host.snapshot()
        // CI's host is fresh; a host kept from an earlier run has podman already, and then the user is what is missing.
        let missing = try host.output("command -v podman >/dev/null && echo 'there is no user ollama' || echo 'podman is not installed'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let check = try play("ollama.yml", check: true)
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        let planned = changed(check)
        for expected in ["create user ollama", "enable lingering for ollama", "create ~ollama/.config/containers/systemd/ollama.network",
                         "load \(host.image) from \(host.archive)", "create ~ollama/.config/containers/systemd/ollama-granite4.volume",
                         "create ~ollama/.config/containers/systemd/ollama-qwen-coder.container", "start ollama-granite4.service",
                         "pull granite4:latest into ollama-granite4 (\(missing) yet)",
                         "pull qwen2.5-coder:7b into ollama-qwen-coder (\(missing) yet)"] {
            XCTAssertTrue(planned.contains(expected), "--check lists \(expected): \(planned)")
        }
        XCTAssertEqual(try host.snapshot(), fresh, "--check changed the host")

        // Apply: converged, both APIs answer from the host with their models, the servers run as subordinate ids.
        let first = try play("ollama.yml")
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(try host.models(on: 55077), ["granite4:latest"])
        XCTAssertEqual(try host.models(on: 55078), ["qwen2.5-coder:7b"])
        let pulled = try host.registryRequests()
        XCTAssertGreaterThan(pulled, 0, "the models were pulled from the stand-in registry")
        let ids = try host.output(#"""
        set -e
        u=$(id -u ollama)
        for c in ollama-granite4 ollama-qwen-coder; do
          pid=$(cd / && runuser -u ollama -- env XDG_RUNTIME_DIR=/run/user/$u podman inspect --format '{{.State.Pid}}' $c 2>/dev/null)
          echo "$c $(stat -c %u /proc/$pid) $u $(awk -F: '$1 == "ollama" {print $2, $3}' /etc/subuid)"
        done
        """#)
        for line in ids.split(separator: "\n") {
            let f = line.split(separator: " ").compactMap { Int($0) }
            XCTAssertEqual(f.count, 4, String(line))
            if f.count == 4 { XCTAssertTrue(f[0] != 0 && f[0] != f[1] && f[0] >= f[2] && f[0] < f[2] + f[3], "\(line): uid, account, subordinate range") }
        }

        // The milestones' checks; then a second apply: nothing changes, nothing is pulled.
        let verify = try play("ollama.yml", tags: "verify")
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertGreaterThanOrEqual(verify.tasks.filter { ($0["task"] as? String ?? "").contains(": M") && $0["status"] as? String == "ok" }.count, 8,
                                    verify.stdout)
        let second = try play("ollama.yml")
        XCTAssertEqual(second.status, 0, second.stdout)
        XCTAssertEqual(second.recap("changed"), 0, changed(second).joined(separator: "\n"))
        XCTAssertEqual(try host.registryRequests(), pulled, "a converged host pulls nothing")

        // The host restarts (the registry with it, for good): both servers come back with their models.
        try host.reboot()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, try host.models(on: 55077) == nil || host.models(on: 55078) == nil { Thread.sleep(forTimeInterval: 2) }
        XCTAssertEqual(try host.models(on: 55077), ["granite4:latest"], "granite4 came back with its model")
        XCTAssertEqual(try host.models(on: 55078), ["qwen2.5-coder:7b"], "qwen-coder came back with its model")
        XCTAssertEqual(try play("ollama.yml").recap("changed"), 0, "after the restart: converged, and no pull (no registry runs)")

        // Backup, the volume destroyed, restore: the model is listed again, with no pull (there is no registry).
        let before = try host.asOllama("podman unshare find $(podman volume inspect --format {{.Mountpoint}} ollama-granite4) -printf \"%P %m %U:%G %s\\n\" | sort").stdout
        let backup = try play("ollama-backup.yml")
        XCTAssertEqual(backup.status, 0, backup.stdout + backup.stderr)
        XCTAssertEqual(try host.output("cd /var/backups/ollama && sha256sum -c ollama-granite4.tar.sha256 ollama-qwen-coder.tar.sha256 | sort"),
                       "ollama-granite4.tar: OK\nollama-qwen-coder.tar: OK\n")
        XCTAssertEqual(try host.asOllama("systemctl --user stop ollama-granite4.service && podman volume rm ollama-granite4").status, 0)
        XCTAssertNil(try host.models(on: 55077))
        let restore = try play("ollama-restore.yml", ["{\"ollama_restore_instances\": [\"granite4\"]}"])
        XCTAssertEqual(restore.status, 0, restore.stdout + restore.stderr)
        XCTAssertEqual(try host.models(on: 55077), ["granite4:latest"], "restored, listed, not pulled")
        let restored = restore.tasks.filter { ($0["task"] as? String ?? "").contains("Their models") }
        XCTAssertEqual(restored.map { $0["status"] as? String }, ["ok"], "the model was there: no pull, no import")
        let after = try host.asOllama("podman unshare find $(podman volume inspect --format {{.Mountpoint}} ollama-granite4) -printf \"%P %m %U:%G %s\\n\" | sort").stdout
        XCTAssertEqual(Set(after.split(separator: "\n").map { $0.split(separator: " ").filter { !$0.contains(":") } }),
                       Set(before.split(separator: "\n").map { $0.split(separator: " ").filter { !$0.contains(":") } }),
                       "every path, mode and size as before")
        XCTAssertEqual(Set(after.split(separator: "\n").compactMap { $0.split(separator: " ").first { $0.contains(":") } }).count, 1,
                       "one owner throughout, the server's: \(after)")

        // A damaged archive: refused before anything changes (the server keeps running).
        _ = try host.output("printf X | dd of=/var/backups/ollama/ollama-granite4.tar bs=1 seek=2000 conv=notrunc 2>/dev/null")
        let unchanged = try host.snapshot()
        let damaged = try play("ollama-restore.yml", ["{\"ollama_restore_instances\": [\"granite4\"]}", "ollama_restore_force=true"])
        XCTAssertEqual(damaged.status, 2, damaged.stdout)
        let refusal = damaged.tasks.first { $0["status"] as? String == "failed" }?["message"] as? String ?? ""
        XCTAssertTrue(refusal.contains("does not match") && refusal.contains("refused, nothing was changed"), refusal)
        XCTAssertEqual(try host.snapshot(), unchanged, "a refused restore changed the host")
        XCTAssertEqual(try host.models(on: 55077), ["granite4:latest"])

        // qwen-coder leaves the list: stopped, units removed, its models kept; back again: no pull, no import.
        let granite = "{\"ollama_instances\": [{\"name\": \"granite4\", \"port\": 55077, \"models\": [\"granite4:latest\"]}]}"
        let qwen = "{\"name\": \"qwen-coder\", \"port\": 55078, \"models\": [\"qwen2.5-coder:7b\"]}"
        let removed = try play("ollama.yml", [granite])
        XCTAssertEqual(removed.status, 0, removed.stdout + removed.stderr)
        XCTAssertNil(try host.models(on: 55078))
        XCTAssertEqual(try host.asOllama("ls ~/.config/containers/systemd | grep -c qwen; podman volume exists ollama-qwen-coder && echo kept").stdout, "0\nkept\n")
        let both = "{\"ollama_instances\": [{\"name\": \"granite4\", \"port\": 55077, \"models\": [\"granite4:latest\"]}, \(qwen)]}"
        let back = try play("ollama.yml", [both])
        XCTAssertEqual(back.status, 0, back.stdout + back.stderr)
        XCTAssertEqual(try host.models(on: 55078), ["qwen2.5-coder:7b"], "its kept volume brought its model back")
        // Removed with purge: its models go too. Added again from a model store folder: imported, no network.
        XCTAssertEqual(try play("ollama.yml", [granite, "ollama_purge_removed=true"]).status, 0)
        XCTAssertEqual(try host.asOllama("podman volume exists ollama-qwen-coder && echo kept || echo purged").stdout, "purged\n")
        let imported = try play("ollama.yml", [both, "ollama_model_source=\(host.modelStore)"])
        XCTAssertEqual(imported.status, 0, imported.stdout + imported.stderr)
        XCTAssertTrue(changed(imported).contains { $0.hasPrefix("import qwen2.5-coder:7b into ollama-qwen-coder from \(host.modelStore): 5 blobs") }, "\(changed(imported))")
        XCTAssertEqual(try host.models(on: 55078), ["qwen2.5-coder:7b"])
        XCTAssertEqual(try play("ollama.yml", [both, "ollama_model_source=\(host.modelStore)"]).recap("changed"), 0)

        // A third server on a port another program holds: the run fails with podman's own error, from the unit's
        // journal; the other two keep answering.
        _ = try host.output("systemd-run -q --unit ollama-test-busy python3 -m http.server --bind 127.0.0.1 55079")
        let third = "{\"ollama_instances\": [{\"name\": \"granite4\", \"port\": 55077, \"models\": [\"granite4:latest\"]}, \(qwen), "
            + "{\"name\": \"third\", \"port\": 55079, \"models\": []}]}"
        let busy = try play("ollama.yml", [third, "ollama_start_timeout=15"])
        XCTAssertEqual(busy.status, 2, busy.stdout)
        let why = busy.tasks.first { $0["status"] as? String == "failed" }?["message"] as? String ?? ""
        XCTAssertTrue(why.contains("ollama-third.service is not active after 15 s") && why.contains("127.0.0.1:55079: bind: address already in use"), why)
        XCTAssertEqual(try host.models(on: 55077), ["granite4:latest"])
        XCTAssertEqual(try host.models(on: 55078), ["qwen2.5-coder:7b"])
        _ = try host.output("systemctl stop ollama-test-busy")

        // Leave the host as it was found: no servers, no volumes.
        XCTAssertEqual(try play("ollama.yml", ["{\"ollama_instances\": []}", "ollama_purge_removed=true"]).status, 0)
        try host.prepare()
    }
}
