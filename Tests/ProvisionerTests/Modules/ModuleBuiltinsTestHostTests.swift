import Foundation
import XCTest

/// The package, repository and fetching modules on a real Debian 12 test host over ssh
/// (testhosts/fleet-up.sh): real apt and dpkg, a local apt repository built here with
/// dpkg-deb and dpkg-scanpackages, a key made here with gpg, and python3 (the host's only HTTP
/// tool) for get_url, uri and wait_for. Each test leaves the host as it found it.
final class ModuleBuiltinsTestHostTests: XCTestCase {
    static let folder = ProcessInfo.processInfo.environment["PROVISION_TESTHOSTS_DIR"] ?? "/var/tmp/provision-testhosts"
    var fleet: TestFleet!
    var scratch: Scratch!
    var port: Int { fleet.hosts[0].port }
    var host: String { fleet.hosts[0].name }

    override func setUpWithError() throws {
        fleet = try TestFleet(folder: ModuleBuiltinsTestHostTests.folder, count: 1, start: "testhosts/fleet-up.sh 1")
        scratch = try Scratch()
    }

    override func tearDown() { scratch?.remove() }

    /// Runs a play against the first host; returns the `--json` result.
    @discardableResult
    func play(_ tasks: String, check: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> TestSupport.Result {
        try scratch.write("play.yml", "- hosts: \(host)\n  tasks:\n" + tasks)
        let result = try scratch.provision(["apply", "play.yml", "-i", fleet.inventory, "--json"] + (check ? ["--check"] : []))
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr, file: file, line: line)
        return result
    }

    /// A .deb built here and an apt repository (Packages) holding it, in scratch/repo.
    func makeRepository() throws {
        try TestSupport.require("dpkg-scanpackages", "dpkg-dev builds the test repository")
        try scratch.write("pkg/DEBIAN/control", """
            Package: provision-test-pkg
            Version: 1.0
            Architecture: all
            Maintainer: provision tests <root@localhost>
            Description: a package for provision's apt tests

            """)
        try scratch.write("pkg/usr/share/provision-test-pkg/hello", "hello\n")
        let steps = "mkdir -p repo && dpkg-deb -Zgzip --build pkg repo/provision-test-pkg_1.0_all.deb >/dev/null "
            + "&& cd repo && dpkg-scanpackages . /dev/null 2>/dev/null | gzip -9 > Packages.gz"
        let built = try TestSupport.run("/bin/sh", ["-c", steps], in: scratch.root)
        XCTAssertEqual(built.status, 0, built.stderr)
    }

    func testUpdateCacheAloneAndCacheValidTime() throws {
        let first = try play("""
                - apt: {update_cache: true}
                - apt: {update_cache: true, cache_valid_time: 3600}
                - package: {name: dpkg, update_cache: true, cache_valid_time: 3600}
                - apt: {upgrade: dist}
                  check_mode: true
            """)
        XCTAssertEqual(first.tasks.first { $0["task"] as? String == "apt" }?["status"] as? String, "changed",
                       "a refresh on its own is a change, as in Ansible")
        XCTAssertEqual(first.recap("changed") - (first.tasks.last?["status"] as? String == "changed" ? 1 : 0), 1,
                       "a fresh index is not refreshed again: \(first.stdout)")
    }

    func testAptRepositoryAndPackagesFromALocalRepository() throws {
        try makeRepository()
        defer {
            _ = try? fleet.run(port, "apt-get remove -y -q provision-test-pkg; rm -rf /srv/provision-repo "
                + "/etc/apt/sources.list.d/provision-test.list /etc/apt/sources.list.d/provision-deb822.sources; apt-get update -q")
        }
        let tasks = """
                - file: {path: /srv/provision-repo, state: directory}
                - copy: {src: "\(scratch.path("repo"))/{{ item }}", dest: /srv/provision-repo/}
                  loop: [provision-test-pkg_1.0_all.deb, Packages.gz]
                - apt_repository: {repo: "deb [trusted=yes] file:/srv/provision-repo ./", filename: provision-test}
                - apt: {name: provision-test-pkg}
            """
        let first = try play(tasks)
        XCTAssertEqual(first.recap("changed"), 4, first.stdout)
        XCTAssertEqual(try fleet.output(port, "cat /etc/apt/sources.list.d/provision-test.list"), "deb [trusted=yes] file:/srv/provision-repo ./\n")
        XCTAssertEqual(try fleet.output(port, "cat /usr/share/provision-test-pkg/hello"), "hello\n")
        let second = try play(tasks)
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
        XCTAssertEqual(second.recap("round_trips"), 1, "facts (remembered from the first run, confirmed by the host) and every observation in one round trip")
        // The same source written deb822-style, its key inline; then both removed.
        let deb822 = """
                - deb822_repository: {name: provision deb822, uris: "file:/srv/provision-repo", suites: ./, trusted: true}
                - apt: {update_cache: true}
            """
        XCTAssertEqual(try play(deb822).recap("changed"), 2)
        XCTAssertEqual(try fleet.output(port, "cat /etc/apt/sources.list.d/provision-deb822.sources"),
                       "X-Repolib-Name: provision deb822\nSuites: ./\nTrusted: yes\nTypes: deb\nURIs: file:/srv/provision-repo\n")
        XCTAssertEqual(try play("""
                - deb822_repository: {name: provision deb822, state: absent}
                - apt_repository: {repo: "deb [trusted=yes] file:/srv/provision-repo ./", filename: provision-test, state: absent}
                - apt: {name: provision-test-pkg, state: absent}
            """).recap("changed"), 3)
        XCTAssertEqual(try fleet.run(port, "test -e /etc/apt/sources.list.d/provision-test.list").status, 1)
    }

    func testAptKeyWithAKeyMadeHere() throws {
        try TestSupport.require("gpg", "gpg makes the test key")
        let home = scratch.path("gnupg")
        let made = try TestSupport.run("/bin/sh", ["-c", """
            mkdir -m 700 "$0" && GNUPGHOME="$0" gpg --batch --passphrase '' --quick-gen-key 'provision test <t@example.com>' ed25519 sign 1d 2>/dev/null \
              && GNUPGHOME="$0" gpg --armor --export t@example.com > "$0/key.asc" \
              && GNUPGHOME="$0" gpg --with-colons --list-keys t@example.com | awk -F: '$1 == "pub" {print $5}'
            """, home])
        XCTAssertEqual(made.status, 0, made.stderr)
        let keyID = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try String(contentsOfFile: home + "/key.asc", encoding: .utf8)
        try scratch.write("key.asc", key)
        let keyring = "/etc/apt/trusted.gpg.d/provision-test.gpg"
        defer { _ = try? fleet.run(port, "rm -f \(keyring) \(keyring)~") }
        // apt-key needs gpg on the host.
        try play("    - apt: {name: gnupg, update_cache: true, cache_valid_time: 3600}\n")
        let add = "    - apt_key: {data: \"{{ lookup('file', '\(scratch.path("key.asc"))') }}\", keyring: \(keyring)}\n"
        XCTAssertEqual(try play(add).recap("changed"), 1)
        XCTAssertEqual(try play(add).recap("changed"), 0, "the key's id is read from the data and found in the keyring")
        XCTAssertEqual(try play("    - apt_key: {id: \(keyID), keyring: \(keyring), state: absent}\n").recap("changed"), 1)
        XCTAssertEqual(try play("    - apt_key: {id: \(keyID), keyring: \(keyring), state: absent}\n").recap("changed"), 0)
    }

    func testFactsAndFetchingWithOnlyPython3OnTheHost() throws {
        defer { _ = try? fleet.run(port, "pkill -f 'http.server 8899'; rm -rf /srv/provision-www /tmp/provision-fetched") }
        try play("""
                - package_facts: {}
                - service_facts: {}
                - getent: {database: passwd, key: tester}
                - copy:
                    dest: /tmp/provision-facts
                    content: "{{ packages['openssh-server'][0].source }} {{ services['ssh.service'].state }} {{ getent_passwd.tester[4] }}"
                - file: {path: /srv/provision-www, state: directory}
                - copy: {dest: /srv/provision-www/hello.txt, content: "hello over ssh\\n"}
                - shell: "nohup python3 -m http.server 8899 --bind 127.0.0.1 --directory /srv/provision-www > /dev/null 2>&1 < /dev/null &"
                - wait_for: {port: 8899, timeout: 20}
                - get_url: {url: "http://127.0.0.1:8899/hello.txt", dest: /tmp/provision-fetched, mode: "0600"}
                - uri: {url: "http://127.0.0.1:8899/hello.txt", return_content: true}
                  register: page
                - copy: {dest: /tmp/provision-page, content: "{{ page.content }}{{ page.status }}"}
                - get_url: {url: "http://127.0.0.1:8899/hello.txt", dest: /tmp/provision-fetched, mode: "0600"}
                  register: again
                - copy: {dest: /tmp/provision-again, content: "{{ again.changed }} {{ again.status_code }}"}
            """)
        XCTAssertEqual(try fleet.output(port, "cat /tmp/provision-facts; rm -f /tmp/provision-facts"), "apt running /home/tester")
        XCTAssertEqual(try fleet.output(port, "cat /tmp/provision-fetched; stat -c %a /tmp/provision-fetched"), "hello over ssh\n600\n")
        XCTAssertEqual(try fleet.output(port, "cat /tmp/provision-page; rm -f /tmp/provision-page"), "hello over ssh\n200")
        XCTAssertEqual(try fleet.output(port, "cat /tmp/provision-again; rm -f /tmp/provision-again"), "False 304")
    }
}
