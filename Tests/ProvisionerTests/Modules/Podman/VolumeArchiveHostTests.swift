import Foundation
import XCTest

/// volume_backup and volume_restore on a real test host, root's and alice's volumes: the archive and its
/// sha256; the volume destroyed and restored with every owner and mode (its root's too); a corrupted
/// archive refused with nothing changed; a volume that a running container uses refused.
final class VolumeArchiveHostTests: XCTestCase {
    func testBackupDestroyRestore() throws {
        let host = try ServicesTestHost()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try host.inventory(in: scratch)
        // Files with owners and modes of their own; the volume's root is 0750 and owned by 1000:1000.
        let fill = """
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        podman volume rm -f provision-vol >/dev/null 2>&1; podman volume create provision-vol >/dev/null
        mp=$(podman volume inspect --format '{{.Mountpoint}}' provision-vol)
        mkdir -p "$mp/models/blobs" && echo weights > "$mp/models/blobs/sha256-1" && echo manifest > "$mp/models/m"
        chown -R 1000:1000 "$mp" && chown 0:0 "$mp/models/m" && chmod 0750 "$mp" && chmod 0640 "$mp/models/m" && chmod 2755 "$mp/models/blobs"
        """
        _ = try host.output(fill)
        let listing = "mp=$(PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman volume inspect --format '{{.Mountpoint}}' provision-vol) && cd \"$mp\" && find . -printf '%m %U:%G %p %s\\n' | sort"
        let original = try host.output(listing)
        let play = try scratch.write("volumes.yml", """
        - hosts: all
          vars: {mode: backup}
          tasks:
            - volume_backup: {name: provision-vol, dest: /var/backups/provision-vol.tar}
              when: mode == 'backup'
            - volume_restore: {name: provision-vol, src: /var/backups/provision-vol.tar}
              when: mode == 'restore'
        """)
        func apply(_ mode: String) throws -> TestSupport.Result {
            try scratch.provision(["apply", play, "-i", inventory, "--json", "-e", "mode=\(mode)"])
        }
        _ = try host.run("rm -f /var/backups/provision-vol.tar /var/backups/provision-vol.tar.sha256")
        let backup = try apply("backup")
        XCTAssertEqual(backup.recap("changed"), 1, backup.stdout)
        XCTAssertEqual(try host.output("cd /var/backups && sha256sum -c provision-vol.tar.sha256"), "provision-vol.tar: OK\n")
        XCTAssertEqual(try apply("backup").recap("changed"), 0, "an archive and its sha256 stand")

        // Destroyed, then restored: the same files, owners and modes, the root's included.
        _ = try host.output("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman volume rm provision-vol >/dev/null")
        let restored = try apply("restore")
        XCTAssertEqual(restored.recap("changed"), 1, restored.stdout)
        XCTAssertEqual(try host.output(listing), original)
        XCTAssertEqual(try apply("restore").recap("changed"), 0, "a volume holding data is left alone")

        // A corrupted archive is refused before anything changes.
        _ = try host.output("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman volume rm provision-vol >/dev/null; printf x >> /var/backups/provision-vol.tar")
        let corrupted = try apply("restore")
        XCTAssertEqual(corrupted.status, 2, corrupted.stdout)
        let message = corrupted.tasks.first { $0["status"] as? String == "failed" }?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("does not match /var/backups/provision-vol.tar.sha256"), message)
        XCTAssertNotEqual(try host.run("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman volume exists provision-vol").status, 0, "nothing was created")

        // A volume a running container uses is refused.
        try host.copyStandIn("web")
        _ = try host.output(fill + "\npodman load -q -i /var/tmp/web.tar >/dev/null 2>&1; podman run -d --name provision-vol-user -v provision-vol:/data localhost/provision-standin/web:1 >/dev/null")
        let inUse = try apply("restore")
        XCTAssertEqual(inUse.status, 2)
        XCTAssertTrue((inUse.tasks.first { $0["status"] as? String == "failed" }?["message"] as? String ?? "").contains("in use by running containers (provision-vol-user)"),
                      inUse.stdout)
        _ = try host.run("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman rm -f -t 0 provision-vol-user; podman volume rm provision-vol")
    }

    /// alice's volume: archived inside her user namespace, restored with the ids her containers see.
    func testRootlessVolume() throws {
        let host = try ServicesTestHost()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try host.inventory(in: scratch)
        let asAlice = "runuser -u alice -- sh -c 'cd /; export XDG_RUNTIME_DIR=/run/user/$(id -u) PODMAN_IGNORE_CGROUPSV1_WARNING=1; %@'"
        _ = try host.output(String(format: asAlice, "podman volume rm -f rl-vol >/dev/null 2>&1; podman volume create rl-vol >/dev/null; "
            + "podman unshare sh -c \"mp=\\$(podman volume inspect --format {{.Mountpoint}} rl-vol); echo data > \\$mp/f; chown 33:33 \\$mp/f; chmod 0700 \\$mp\""))
        let listing = String(format: asAlice, "podman unshare sh -c \"cd \\$(podman volume inspect --format {{.Mountpoint}} rl-vol) && find . -printf \\\"%m %U:%G %p\\n\\\" | sort\"")
        let original = try host.output(listing)
        XCTAssertTrue(original.contains("33:33 ./f"), original)
        let play = try scratch.write("rl.yml", """
        - hosts: all
          vars: {mode: backup}
          tasks:
            - file: {path: /var/backups/alice, state: directory, mode: "0755"}
            - volume_backup: {name: rl-vol, dest: /var/backups/alice/rl-vol.tar, force: true, scope: user, user: alice}
              when: mode == 'backup'
            - volume_restore: {name: rl-vol, src: /var/backups/alice/rl-vol.tar, scope: user, user: alice}
              when: mode == 'restore'
        """)
        XCTAssertEqual(try scratch.provision(["apply", play, "-i", inventory, "-e", "mode=backup"]).status, 0)
        _ = try host.output(String(format: asAlice, "podman volume rm rl-vol >/dev/null"))
        let restore = try scratch.provision(["apply", play, "-i", inventory, "-e", "mode=restore"])
        XCTAssertEqual(restore.status, 0, restore.stdout)
        XCTAssertEqual(try host.output(listing), original)
    }
}
