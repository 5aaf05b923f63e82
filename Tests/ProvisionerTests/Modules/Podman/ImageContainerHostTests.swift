import Foundation
import XCTest

/// The image and container modules on a real test host, against a real registry run there (Debian's
/// `docker-registry`, the distribution registry, on 127.0.0.1:5501): pulls by tag and by digest, rootful
/// and alice's; a tag that moved is pulled and reported; an unreachable registry's error; an archive on
/// the host; absent. A container with every argument is created once and left alone by a rerun.
final class ImageContainerHostTests: XCTestCase {
    static let registry = "127.0.0.1:5501"

    /// Starts the registry on the host (no auth, loopback only) and pushes the web stand-in as web:1.
    func startRegistry(_ host: ServicesTestHost) throws -> String {
        _ = try host.output("""
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        command -v docker-registry >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >/dev/null
        cat > /etc/docker/registry/config.yml <<EOF
        version: 0.1
        storage: {filesystem: {rootdirectory: /var/lib/docker-registry}, delete: {enabled: true}}
        http: {addr: \(ImageContainerHostTests.registry)}
        EOF
        systemctl restart docker-registry
        for i in $(seq 50); do busybox wget -q -O /dev/null http://\(ImageContainerHostTests.registry)/v2/ && break; sleep 0.2; done
        podman image exists localhost/provision-standin/web:1 || podman load -q -i /var/tmp/web.tar >/dev/null
        podman tag localhost/provision-standin/web:1 \(ImageContainerHostTests.registry)/provision-test/web:1
        podman push -q --tls-verify=false \(ImageContainerHostTests.registry)/provision-test/web:1
        podman rmi \(ImageContainerHostTests.registry)/provision-test/web:1 >/dev/null
        podman network exists provision-test || podman network create provision-test >/dev/null
        """)
        return try host.output("skopeo inspect --tls-verify=false --no-tags --format '{{.Digest}}' docker://\(ImageContainerHostTests.registry)/provision-test/web:1")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testImagesFromARegistryAndContainersThatStayPut() throws {
        let host = try ServicesTestHost()
        try host.copyStandIn("web")
        let digest = try startRegistry(host)
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try host.inventory(in: scratch)
        let web = "\(ImageContainerHostTests.registry)/provision-test/web"
        try scratch.write("app.env", "")
        let play = try scratch.write("images.yml", """
        - hosts: all
          vars:
            greeting: one
            state: present
            pull: missing
          tasks:
            - name: the container goes before its image
              container: {name: provision-web, state: absent}
              when: state == 'absent'
            - name: root's image by tag
              image: {name: "\(web):1", validate_certs: false, pull: "{{ pull }}", state: "{{ state }}"}
              register: tagged
            - name: alice's image by digest
              image: {name: "\(web)@\(digest)", validate_certs: false, scope: user, user: alice, state: "{{ state }}"}
            - name: alice's image from an archive on the host
              image: {name: "localhost/provision-standin/web:1", archive: /var/tmp/web.tar, remote_src: true, scope: user, user: alice, state: "{{ state }}"}
            - name: the env file
              copy: {dest: /srv/web.env, content: "FROM_FILE=yes\\n", mode: "0600"}
            - name: a container with every argument
              container:
                name: provision-web
                image: "\(web):1"
                state: "{{ 'started' if state == 'present' else 'absent' }}"
                entrypoint: /bin/sh
                command: ["-c", "echo $GREETING > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
                ports: ["127.0.0.1:18190:8080"]
                volumes: ["provision-web-data:/data", "/srv:/srv:ro"]
                env: {GREETING: "{{ greeting }}", SECOND: two words}
                env_file: [/srv/web.env]
                devices: ["/dev/null:/dev/provision-null"]
                container_user: "0:0"
                network: [provision-test]
                labels: {team: ops}
                restart: unless-stopped
                workdir: /tmp
                hostname: provision-web
                cap_add: [NET_ADMIN]
                cap_drop: [MKNOD]
                stop_timeout: 2
              register: made
        """)
        func apply(_ extra: [String] = []) throws -> TestSupport.Result {
            try scratch.provision(["apply", play, "-i", inventory, "--json"] + extra.flatMap { ["-e", $0] })
        }
        _ = try apply(["state=absent"])

        let first = try apply()
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(try host.get("http://127.0.0.1:18190/"), "one\n", "the container answers on its published port")
        let id = try host.output("podman inspect --format '{{.Id}}' provision-web 2>/dev/null")
        let inside = try host.output("podman exec provision-web sh -c 'echo $FROM_FILE $SECOND; busybox hostname; busybox id -u; ls /dev/provision-null' 2>/dev/null")
        XCTAssertEqual(inside, "yes two words\nprovision-web\n0\n/dev/provision-null\n", "env, env_file, hostname, user, devices")
        XCTAssertTrue(try host.output("runuser -u alice -- sh -c 'cd /; export XDG_RUNTIME_DIR=/run/user/$(id -u); podman images --digests' 2>/dev/null")
            .contains(digest), "alice has the image pulled by digest")

        // A rerun: no pull, no load, and the container with all its arguments is not recreated.
        let second = try apply()
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(try host.output("podman inspect --format '{{.Id}}' provision-web 2>/dev/null"), id, "the rerun kept the container")

        // One argument changes: the container is recreated, once.
        let changed = try apply(["greeting=two"])
        XCTAssertEqual(changed.recap("changed"), 1, changed.stdout)
        XCTAssertEqual(try host.get("http://127.0.0.1:18190/"), "two\n")
        XCTAssertEqual(try apply(["greeting=two"]).recap("changed"), 0)

        // The tag moves on the registry: pull: always notices, pulls, reports it; the container follows the image.
        _ = try host.output("""
        export PODMAN_IGNORE_CGROUPSV1_WARNING=1
        podman image exists localhost/provision-standin/web:1 || podman load -q -i /var/tmp/web.tar >/dev/null
        cd $(mktemp -d) && printf 'FROM localhost/provision-standin/web:1\\nLABEL moved=yes\\n' > Containerfile
        podman build -q -t localhost/provision-test-moved:1 . >/dev/null
        podman push -q --tls-verify=false localhost/provision-test-moved:1 docker://\(web):1 && podman rmi localhost/provision-test-moved:1 >/dev/null
        """)
        let moved = try apply(["greeting=two", "pull=always"])
        XCTAssertEqual(moved.status, 0, moved.stdout)
        let pulled = moved.tasks.first { $0["task"] as? String == "root's image by tag" }
        // The image loaded from the archive and pushed has two digests under the registry's name: both are named.
        let movedChange = (pulled?["changes"] as? [String] ?? []).first ?? ""
        let here = movedChange.components(separatedBy: "the tag moved (here ").last?.components(separatedBy: ", the registry has ").first ?? ""
        XCTAssertTrue(movedChange.contains("the tag moved (here ") && here.components(separatedBy: " or ").contains(digest), "\(pulled ?? [:])")
        XCTAssertTrue((moved.tasks.first { $0["task"] as? String == "a container with every argument" }?["changes"] as? [String] ?? [])
            .first?.contains("now names another image") ?? false, moved.stdout)
        XCTAssertEqual(try apply(["greeting=two", "pull=always"]).recap("changed"), 0, "the moved tag is pulled once")

        // An unreachable registry: the pull fails, saying where it went.
        let unreachable = try scratch.write("unreachable.yml", """
        - hosts: all
          tasks:
            - image: {name: "127.0.0.1:5599/nothing/here:1", validate_certs: false}
        """)
        let refused = try scratch.provision(["apply", unreachable, "-i", inventory, "--json"])
        XCTAssertEqual(refused.status, 2)
        let message = refused.tasks.first { $0["status"] as? String == "failed" }?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("pulling 127.0.0.1:5599/nothing/here:1 failed: Error: ") && message.contains("connection refused"), message)

        // Absent: container, then images.
        let removed = try apply(["state=absent"])
        XCTAssertEqual(removed.status, 0, removed.stdout)
        XCTAssertNotEqual(try host.run("podman container exists provision-web").status, 0)
        XCTAssertNotEqual(try host.run("podman image exists \(web):1").status, 0)
        XCTAssertEqual(try apply(["state=absent"]).recap("changed"), 0)
    }
}
