import Foundation
import XCTest

/// motoko's services (seed 004 §5.2) on the standard's test host, for StandardPlaybookTests: the stand-in
/// images (the real Nextcloud, LiteLLM and vLLM images cannot be pulled here) built on the controller
/// into the archives `testhosts/standard/host_vars/motoko/services.yml` names, and QA §8.1's service
/// criteria as assertions.
enum MotokoServicesQA {
    static let standIns = "/var/tmp/provision-standins"
    static let units = ["nextcloud-app", "nextcloud-db", "nextcloud-redis", "litellm", "vllm-embeddings"]

    static func buildStandIns(file: StaticString = #filePath, line: UInt = #line) throws {
        let script = TestSupport.packageRoot.appendingPathComponent("testhosts/services/build-standins.sh").path
        let result = try TestSupport.runSpawned(script, [standIns])
        XCTAssertEqual(result.status, 0, "building the stand-in images: \(result.stderr)", file: file, line: line)
    }

    /// QA §8.1: `systemctl status nextcloud-app litellm vllm-embeddings`, `podman ps` and `docker ps` show the
    /// services; they answer on their ports and reach each other by name; secrets stay out of the units.
    static func assertServices(_ fleet: TestFleet, port: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let status = try fleet.run(port, "systemctl status --no-pager nextcloud-app litellm vllm-embeddings >/dev/null")
        XCTAssertEqual(status.status, 0, "systemctl status nextcloud-app litellm vllm-embeddings", file: file, line: line)
        let podman = try fleet.output(port, "podman ps --format '{{.Names}}' 2>/dev/null", file: file, line: line)
        let docker = try fleet.output(port, "docker ps --format '{{.Names}}' 2>/dev/null", file: file, line: line)
        for unit in units {
            XCTAssertEqual(try fleet.output(port, "systemctl is-active \(unit)", file: file, line: line), "active\n", unit, file: file, line: line)
            XCTAssertTrue(podman.split(separator: "\n").contains(Substring(unit)), "podman ps shows \(unit): \(podman)", file: file, line: line)
        }
        XCTAssertEqual(Set(docker.split(separator: "\n")), Set(podman.split(separator: "\n")), "docker ps shows the same containers",
                       file: file, line: line)
        _ = try fleet.output(port, "command -v busybox >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null")
        for (service, url) in [("nextcloud", "http://127.0.0.1:8080/"), ("litellm", "http://127.0.0.1:4000/"), ("vllm", "http://127.0.0.1:8000/v1/models")] {
            let page = try fleet.run(port, "busybox wget -q -T 5 -O - \(url)").stdout
            XCTAssertTrue(page.contains("stand-in") || page.contains("stand-in\""), "\(service) answers on \(url): \(page)", file: file, line: line)
        }
        // (No -T in the stand-ins: that busybox's wget crashes on its timeout alarm inside these nested hosts.)
        for (from, to) in [("nextcloud-app", "nextcloud-db:5432"), ("nextcloud-app", "nextcloud-redis:6379"), ("litellm", "vllm-embeddings:8000")] {
            let page = try fleet.run(port, "podman exec \(from) wget -q -O - http://\(to)/ 2>/dev/null").stdout
            XCTAssertTrue(page.contains("stand-in"), "\(from) reaches \(to) by name", file: file, line: line)
        }
        let secrets = try fleet.output(port, "stat -c '%a %n' /space/containers/apps/nextcloud/*.env /space/containers/apps/litellm/litellm.env",
                                       file: file, line: line)
        XCTAssertTrue(secrets.split(separator: "\n").allSatisfy { $0.hasPrefix("600 ") }, "env files are 0600: \(secrets)", file: file, line: line)
        XCTAssertNotEqual(try fleet.run(port, "grep -rl -e test-db-secret -e sk-test-master-key /etc/containers/systemd").status, 0,
                          "no secret in the unit files", file: file, line: line)
    }
}
