import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// Quadlet units on a real systemd test host with podman 5 inside, over ssh: rootful and rootless
/// `.container`, `.volume`, `.network` and `.pod` units from a locally built image, ports answering from
/// the host, containers reaching each other by name; a rerun changes nothing and keeps every main PID;
/// `--check` of one changed key lists one change and touches nothing; applying it restarts only that unit;
/// a changed `restart_on` file restarts only its unit; a key the host's podman does not know fails before
/// anything changes; the units come back after the host restarts; `state: absent` removes them.
final class QuadletHostTests: XCTestCase {
    static let play = """
    - hosts: all
      vars:
        back_description: the back end
        greeting: hello from the front
        bad_key: false
        state: present
      tasks:
        - name: the web image, root's (a stand-in built on the controller, copied over ssh)
          image: {name: "localhost/provision-standin/web:1", archive: /var/tmp/provision-standins/web.tar}
        - name: the web image, alice's
          image: {name: "localhost/provision-standin/web:1", archive: /var/tmp/provision-standins/web.tar, scope: user, user: alice}
        - name: the front's page folder
          file: {path: /srv/lab, state: directory, mode: "0755"}
        - name: the front's page (mounted; restart_on)
          copy: {dest: /srv/lab/index.html, content: "{{ greeting }}\\n", mode: "0644"}
        - name: lab network
          quadlet: {name: lab, type: network, state: "{{ state }}", sections: {Network: {NetworkName: lab}}}
        - name: lab volume
          quadlet: {name: lab-data, type: volume, state: "{{ state }}", purge: "{{ state == 'absent' }}", sections: {Volume: {VolumeName: lab-data}}}
        - name: lab pod
          quadlet:
            name: lab
            type: pod
            state: "{{ state }}"
            sections:
              Pod: {PodName: lab, Network: lab.network, PublishPort: "127.0.0.1:18181:8080"}
        - name: lab front (in the pod)
          quadlet:
            name: lab-front
            state: "{{ state }}"
            restart_on: [/srv/lab/index.html]
            sections:
              Container:
                ContainerName: lab-front
                Image: localhost/provision-standin/web:1
                Pod: lab.pod
                Volume: /srv/lab:/www:ro
              Install: {WantedBy: multi-user.target}
        - name: lab back (healthy before it counts as started)
          quadlet:
            name: lab-back
            state: "{{ state }}"
            sections:
              Unit: {Description: "{{ back_description }}"}
              Container: "{{ back | combine({'FooBar': 1} if bad_key else {}) }}"
              Install: {WantedBy: multi-user.target}
          vars:
            back:
              ContainerName: lab-back
              Image: localhost/provision-standin/web:1
              Network: lab.network
              Volume: lab-data.volume:/data
              HealthCmd: wget -q -O /dev/null http://127.0.0.1:8080/
              HealthInterval: 2s
              Notify: healthy
        - name: alice's volume
          quadlet: {name: rl-data, type: volume, scope: user, user: alice, state: "{{ state }}", purge: "{{ state == 'absent' }}", sections: {}}
        - name: alice's web server (a service named by ServiceName=)
          quadlet:
            name: rl-web
            scope: user
            user: alice
            state: "{{ state }}"
            sections:
              Container:
                ServiceName: rl-website
                Image: localhost/provision-standin/web:1
                PublishPort: "127.0.0.1:18182:8080"
                Volume: rl-data.volume:/data
              Service: {Restart: always, RestartSec: 3}
              Install: {WantedBy: default.target}
    """

    static let units = ["lab-network.service", "lab-data-volume.service", "lab-pod.service", "lab-front.service", "lab-back.service",
                        "alice:rl-data-volume.service", "alice:rl-website.service"]

    func testServicesLifecycle() throws {
        let host = try ServicesTestHost()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let inventory = try host.inventory(in: scratch)
        let play = try scratch.write("lab.yml", QuadletHostTests.play)
        func apply(_ extra: [String] = [], check: Bool = false) throws -> TestSupport.Result {
            try scratch.provision([check ? "check" : "apply", play, "-i", inventory, "--json"] + extra.flatMap { ["-e", $0] })
        }

        // From a host without these units (an earlier run may have stopped half-way).
        let clean = try apply(["state=absent"])
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)

        let first = try apply()
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        let reloads = first.tasks.filter { ($0["task"] as? String ?? "").hasPrefix("systemd: daemon-reload") }
        XCTAssertEqual(reloads.count, 1, "one flush of unit work for the play: \(reloads)")
        for unit in QuadletHostTests.units {
            let parts = unit.split(separator: ":").map(String.init)
            XCTAssertEqual(try host.systemctl("is-active \(parts.last ?? "")", user: parts.count == 2 ? parts[0] : nil).stdout, "active\n", unit)
        }
        // The linger probe sees alice's manager run from its cgroup alone: there is no systemctl to ask.
        let managerProbe = "PATH=/nonexistent /bin/sh -c \(RemoteShell.quoted(LingerModule.managerScript)) sh alice"
        XCTAssertEqual(try host.run(managerProbe).stdout, try host.output("id -u alice") + "active\n")
        XCTAssertEqual(try host.get("http://127.0.0.1:18181/"), "hello from the front\n", "the pod publishes the front")
        XCTAssertTrue(try host.get("http://127.0.0.1:18182/").contains("web stand-in"), "alice's rootless container answers")
        XCTAssertTrue(try host.output("podman exec lab-front wget -q -O - http://lab-back:8080/ 2>/dev/null").contains("web stand-in"),
                      "the front reaches the back by name on the lab network")
        XCTAssertEqual(try host.output("podman healthcheck run lab-back >/dev/null 2>&1 && echo healthy"), "healthy\n")

        // A rerun: nothing changes, nothing restarts.
        let pids = try host.mainPIDs(QuadletHostTests.units)
        let second = try apply()
        XCTAssertEqual(second.status, 0, second.stdout)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(second.recap("round_trips"), 1, "facts (remembered from the first run, confirmed by the host) and all eleven tasks' observations in one round trip: \(second.stdout)")
        XCTAssertEqual(try host.mainPIDs(QuadletHostTests.units), pids)

        // --check of one changed key: exactly one change listed, nothing touched.
        let before = try host.snapshot()
        let check = try apply(["back_description=the-new-back-end"], check: true)
        XCTAssertEqual(check.status, 0, check.stdout)
        let changed = check.tasks.filter { $0["status"] as? String == "changed" }.compactMap { $0["task"] as? String }
        XCTAssertEqual(changed, ["lab back (healthy before it counts as started)"])
        XCTAssertEqual(try host.snapshot(), before, "--check changed the host")

        // Applying it restarts that unit only.
        let applied = try apply(["back_description=the-new-back-end"])
        XCTAssertEqual(applied.status, 0, applied.stdout)
        var after = try host.mainPIDs(QuadletHostTests.units)
        XCTAssertNotEqual(after["lab-back.service"], pids["lab-back.service"], "the changed unit restarted")
        for unit in QuadletHostTests.units where unit != "lab-back.service" { XCTAssertEqual(after[unit], pids[unit], "\(unit) kept running") }

        // A mounted file declared in restart_on changes: only its unit restarts — with its pod, as a pod's
        // container must (stopping the pod's last container stops the pod).
        let greeted = try apply(["back_description=the-new-back-end", "greeting=bye"])
        XCTAssertEqual(greeted.status, 0, greeted.stdout)
        let pidsNow = try host.mainPIDs(QuadletHostTests.units)
        let inPod = ["lab-front.service", "lab-pod.service"]
        for unit in inPod { XCTAssertNotEqual(pidsNow[unit], after[unit], "\(unit) restarted") }
        for unit in QuadletHostTests.units where !inPod.contains(unit) { XCTAssertEqual(pidsNow[unit], after[unit], "\(unit) kept running") }
        XCTAssertEqual(try host.get("http://127.0.0.1:18181/"), "bye\n")
        after = pidsNow

        // A key this podman does not know: the task fails naming it, its file:line and podman's version; nothing changes.
        let unchanged = try host.snapshot()
        let bad = try apply(["back_description=the-new-back-end", "greeting=bye", "bad_key=true"])
        XCTAssertEqual(bad.status, 2, bad.stdout)
        let failure = bad.tasks.first { $0["status"] as? String == "failed" }
        let message = failure?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("lab.yml:") && message.contains("unsupported key 'FooBar'") && message.contains("podman 5."), message)
        XCTAssertEqual(try host.snapshot(), unchanged, "a rejected unit changed the host")

        // The host restarts: the units come back.
        try host.reboot()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try host.get("http://127.0.0.1:18182/").isEmpty || host.get("http://127.0.0.1:18181/").isEmpty {
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertEqual(try host.get("http://127.0.0.1:18181/"), "bye\n", "the pod came back after the restart")
        XCTAssertTrue(try host.get("http://127.0.0.1:18182/").contains("web stand-in"), "alice's unit came back after the restart")
        let rebooted = try apply(["back_description=the-new-back-end", "greeting=bye"])
        XCTAssertEqual(rebooted.recap("changed"), 0, rebooted.stdout)

        // state: absent stops and removes them all, the volumes too (purge).
        let removed = try apply(["state=absent"])
        XCTAssertEqual(removed.status, 0, removed.stdout)
        XCTAssertEqual(try host.output("ls /etc/containers/systemd/ | grep -c '^lab' || true"), "0\n")
        XCTAssertNotEqual(try host.systemctl("is-active lab-front.service").stdout, "active\n")
        XCTAssertEqual(try host.output("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman volume exists lab-data && echo kept || echo gone"), "gone\n")
        XCTAssertEqual(try host.output("PODMAN_IGNORE_CGROUPSV1_WARNING=1 podman ps -a --format '{{.Names}}' | grep -c '^lab' || true"), "0\n")
        XCTAssertNotEqual(try host.systemctl("is-active rl-website.service", user: "alice").stdout, "active\n")
        XCTAssertEqual(try apply(["state=absent"]).recap("changed"), 0)
    }

    /// started: true waits for the service; one that cannot start fails the play with its journal's tail.
    func testAServiceThatDoesNotStartFailsWithItsJournal() throws {
        let host = try ServicesTestHost()
        let scratch = try Scratch()
        defer { scratch.remove() }
        let play = try scratch.write("broken.yml", """
        - hosts: all
          tasks:
            - image: {name: "localhost/provision-standin/web:1", archive: /var/tmp/provision-standins/web.tar}
            - quadlet:
                name: lab-broken
                timeout: 20
                sections:
                  Container: {Image: localhost/provision-standin/web:1, Entrypoint: /bin/sh, Exec: "-c 'echo broken-on-purpose >&2; exit 3'"}
            - name: cleanup
              quadlet: {name: lab-broken, state: absent}
              tags: [never, cleanup]
        """)
        let inventory = try host.inventory(in: scratch)
        let result = try scratch.provision(["apply", play, "-i", inventory, "--json"])
        XCTAssertEqual(result.status, 2, result.stdout)
        let failure = result.tasks.first { $0["status"] as? String == "failed" }
        let message = failure?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("lab-broken.service did not start") || message.contains("lab-broken.service is not active"), message)
        XCTAssertTrue(message.contains("broken-on-purpose"), "the journal's tail is in the error: \(message)")
        XCTAssertTrue(message.contains("broken.yml:4"), "the error names the task: \(message)")
        let cleanup = try scratch.provision(["apply", play, "-i", inventory, "--tags", "cleanup"])
        XCTAssertEqual(cleanup.status, 0, cleanup.stdout)
    }
}
