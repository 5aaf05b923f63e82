import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleRegistriesConfTests: XCTestCase {
    private let path = "/etc/containers/registries.conf"

    /// Debian 12's /etc/containers/registries.conf (package golang-github-containers-image), verbatim: comments only.
    private let debian = #"""
        # For more information on this configuration file, see containers-registries.conf(5).
        #
        # NOTE: RISK OF USING UNQUALIFIED IMAGE NAMES
        # We recommend always using fully qualified image names including the registry
        # server (full dns name), namespace, image name, and tag
        # (e.g., registry.redhat.io/ubi8/ubi:latest). Pulling by digest (i.e.,
        # quay.io/repository/name@digest) further eliminates the ambiguity of tags.
        # When using short names, there is always an inherent risk that the image being
        # pulled could be spoofed. For example, a user wants to pull an image named
        # `foobar` from a registry and expects it to come from myregistry.com. If
        # myregistry.com is not first in the search list, an attacker could place a
        # different `foobar` image at a registry earlier in the search list. The user
        # would accidentally pull and run the attacker's image and code rather than the
        # intended content. We recommend only adding registries which are completely
        # trusted (i.e., registries which don't allow unknown or anonymous users to
        # create accounts with arbitrary names). This will prevent an image from being
        # spoofed, squatted or otherwise made insecure.  If it is necessary to use one
        # of these registries, it should be added at the end of the list.
        #
        # # An array of host[:port] registries to try when pulling an unqualified image, in order.
        # unqualified-search-registries = ["example.com"]
        #
        # [[registry]]
        # # The "prefix" field is used to choose the relevant [[registry]] TOML table;
        # # (only) the TOML table with the longest match for the input image name
        # # (taking into account namespace/repo/tag/digest separators) is used.
        # # 
        # # The prefix can also be of the form: *.example.com for wildcard subdomain
        # # matching.
        # #
        # # If the prefix field is missing, it defaults to be the same as the "location" field.
        # prefix = "example.com/foo"
        #
        # # If true, unencrypted HTTP as well as TLS connections with untrusted
        # # certificates are allowed.
        # insecure = false
        #
        # # If true, pulling images with matching names is forbidden.
        # blocked = false
        #
        # # The physical location of the "prefix"-rooted namespace.
        # #
        # # By default, this is equal to "prefix" (in which case "prefix" can be omitted
        # # and the [[registry]] TOML table can only specify "location").
        # #
        # # Example: Given
        # #   prefix = "example.com/foo"
        # #   location = "internal-registry-for-example.net/bar"
        # # requests for the image example.com/foo/myimage:latest will actually work with the
        # # internal-registry-for-example.net/bar/myimage:latest image.
        #
        # # The location can be empty iff prefix is in a
        # # wildcarded format: "*.example.com". In this case, the input reference will
        # # be used as-is without any rewrite.
        # location = internal-registry-for-example.com/bar"
        #
        # # (Possibly-partial) mirrors for the "prefix"-rooted namespace.
        # #
        # # The mirrors are attempted in the specified order; the first one that can be
        # # contacted and contains the image will be used (and if none of the mirrors contains the image,
        # # the primary location specified by the "registry.location" field, or using the unmodified
        # # user-specified reference, is tried last).
        # #
        # # Each TOML table in the "mirror" array can contain the following fields, with the same semantics
        # # as if specified in the [[registry]] TOML table directly:
        # # - location
        # # - insecure
        # [[registry.mirror]]
        # location = "example-mirror-0.local/mirror-for-foo"
        # [[registry.mirror]]
        # location = "example-mirror-1.local/mirrors/foo"
        # insecure = true
        # # Given the above, a pull of example.com/foo/image:latest will try:
        # # 1. example-mirror-0.local/mirror-for-foo/image:latest
        # # 2. example-mirror-1.local/mirrors/foo/image:latest
        # # 3. internal-registry-for-example.net/bar/image:latest
        # # in order, and use the first one that exists.

        """#

    private let entries = """
        unqualified-search-registries = ["docker.io"]

        # Our mirror of Docker Hub.
        [[registry]]
        prefix = "docker.io"
        location = "registry-1.docker.io"  # the real one

        [[registry.mirror]]
        location = "mirror.internal:5000"
        insecure = true

        # Blocked for good.
        [[registry]]
        location = "evil.example"
        blocked = true

        """

    /// The drop-in probe's answer for these (path, text) files.
    private func dropIns(_ files: [(String, String)]) -> CommandOutput {
        ModuleFixture.ok(files.map { "FILE \($0.1.utf8.count) \($0.0)\n\($0.1)" }.joined())
    }

    private func plan(_ arguments: KeyValuePairs<String, Value>, file text: String?, dropIns files: [(String, String)] = [],
                      line: UInt = #line) throws -> Plan {
        let module = try ModuleFixture.make(RegistriesConfModule.self, arguments)
        var observed = ["/etc/containers": ModuleFixture.directory()]
        if let text { observed[path] = ModuleFixture.file(text) }
        return try ModuleFixture.plan(module, files: observed, commands: [RegistriesDropIns.probe: dropIns(files)], line: line)
    }
    func testTheShippedDebianFileGetsKeysAndEntriesAppended() throws {
        let arguments: KeyValuePairs<String, Value> = [
            "unqualified_search_registries": ["docker.io", "quay.io"],
            "short_name_mode": "enforcing",
            "registries": [["location": "registry.internal:5000", "insecure": true]],
        ]
        let p = try plan(arguments, file: debian)
        XCTAssertEqual(p.summaries, ["update /etc/containers/registries.conf: unqualified-search-registries, short-name-mode, "
            + "new registry registry.internal:5000"])
        XCTAssertEqual(p.written, debian + """

            unqualified-search-registries = ["docker.io", "quay.io"]
            short-name-mode = "enforcing"

            [[registry]]
            location = "registry.internal:5000"
            insecure = true

            """)
        let document = try TOMLDocument(parsing: p.written ?? "")
        XCTAssertEqual(document["unqualified-search-registries"], ["docker.io", "quay.io"])
        XCTAssertFalse(try plan(arguments, file: p.written).isChanged)
    }

    func testAnEntryWithTheSamePrefixIsUpdatedInPlaceAndANewOneAppended() throws {
        let arguments: KeyValuePairs<String, Value> = [
            "registries": [
                ["prefix": "docker.io", "location": "registry-1.docker.io", "insecure": false,
                 "mirrors": [["location": "mirror.internal:5000", "insecure": true], ["location": "backup.internal"]]],
                ["prefix": "quay.io", "location": "quay.internal", "mirrors": [["location": "q.mirror"]]],
            ],
        ]
        let p = try plan(arguments, file: entries)
        XCTAssertEqual(p.summaries, ["update /etc/containers/registries.conf: registry docker.io (insecure, mirrors), new registry quay.io"])
        XCTAssertEqual(p.written, """
            unqualified-search-registries = ["docker.io"]

            # Our mirror of Docker Hub.
            [[registry]]
            prefix = "docker.io"
            location = "registry-1.docker.io"  # the real one
            insecure = false

            [[registry.mirror]]
            location = "mirror.internal:5000"
            insecure = true

            [[registry.mirror]]
            location = "backup.internal"

            # Blocked for good.
            [[registry]]
            location = "evil.example"
            blocked = true

            [[registry]]
            prefix = "quay.io"
            location = "quay.internal"

            [[registry.mirror]]
            location = "q.mirror"

            """)
        XCTAssertFalse(try plan(arguments, file: p.written).isChanged)
    }

    func testAnEntryIsFoundByLocationWhenItHasNoPrefix() throws {
        // evil.example has no prefix: its location is its prefix, as in containers/image.
        let p = try plan(["registries": [["location": "evil.example", "blocked": false, "mirrors": []]]], file: entries)
        XCTAssertEqual(p.summaries, ["update /etc/containers/registries.conf: registry evil.example (blocked)"])
        XCTAssertEqual(p.written, entries.replacingOccurrences(of: "blocked = true", with: "blocked = false"))
        // Mirrors not given are left alone; an empty list removes them.
        let kept = try plan(["registries": [["prefix": "docker.io", "location": "registry-1.docker.io"]]], file: entries)
        XCTAssertFalse(kept.isChanged)
        let removed = try plan(["registries": [["prefix": "docker.io", "location": "registry-1.docker.io", "mirrors": []]]],
                               file: entries)
        XCTAssertEqual(removed.written, entries.replacingOccurrences(of: """

            [[registry.mirror]]
            location = "mirror.internal:5000"
            insecure = true

            """, with: ""))
    }

    func testAMissingFileStartsEmpty() throws {
        let p = try plan(["unqualified_search_registries": ["docker.io"]], file: nil)
        XCTAssertEqual(p.summaries, ["create /etc/containers/registries.conf: unqualified-search-registries"])
        XCTAssertEqual(p.written, "unqualified-search-registries = [\"docker.io\"]\n")
        XCTAssertFalse(try plan(["registries": []], file: nil).isChanged)
    }

    func testAV1FileIsRefused() throws {
        let v1 = """
            [registries.search]
            registries = ['docker.io', 'quay.io']

            [registries.insecure]
            registries = ['localhost:5000']

            [registries.block]
            registries = []

            """
        let p = try plan(["short_name_mode": "permissive"], file: v1)
        XCTAssertFalse(p.isChanged)
        XCTAssertEqual(p.failure, "/etc/containers/registries.conf is in the v1 format ([registries.search], "
            + "[registries.insecure], [registries.block]), and podman refuses files that mix it with the v2 keys this "
            + "module writes. Convert it by hand: the search list (docker.io, quay.io) becomes "
            + "unqualified-search-registries = [...], each insecure registry (localhost:5000) a [[registry]] with location "
            + "and insecure = true, each blocked one (none) a [[registry]] with location and blocked = true; or remove the file")
    }

    func testAFileWhoseStructureForbidsTheEditFails() throws {
        let p = try plan(["registries": [["location": "a.io", "mirrors": [["location": "m"]]]]],
                         file: "[[registry]]\nlocation = \"a.io\"\n[registry.mirror]\nlocation = \"x\"\n")
        XCTAssertEqual(p.failure, "/etc/containers/registries.conf:3:11: mirror in [[registry]] #0 is a table, not an array of tables; "
            + "edit the file by hand or remove the conflicting entry")
        let broken = try plan(["short_name_mode": "enforcing"], file: "short-name-mode = \n")
        XCTAssertEqual(broken.failure?.hasSuffix("; fix or remove the file"), true, broken.failure ?? "")
    }

    func testAUsersMissingFileStartsFromTheSystemFileItReplaces() throws {
        let module = try ModuleFixture.make(RegistriesConfModule.self, ["user": "alice", "short_name_mode": "permissive"])
        let probe = module.file.userProbe("alice")
        XCTAssertEqual(module.observations(ModuleContext()),
                       [.command(probe), .file(path: path, content: true), .command(RegistriesDropIns.probe)])
        let p = try ModuleFixture.plan(module, files: [path: ModuleFixture.file(entries)], commands: [
            probe: ModuleFixture.ok("alice:x:1001:1001::/home/alice:/bin/sh\ndir\nmissing\n"), RegistriesDropIns.probe: dropIns([]),
        ])
        XCTAssertEqual(p.summaries, ["create /home/alice/.config/containers/registries.conf: short-name-mode"])
        XCTAssertEqual(p.written, "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"permissive\"\n"
            + entries.dropFirst("unqualified-search-registries = [\"docker.io\"]\n".count))
        XCTAssertEqual(p.result["seeded_from"], .string(path))
        // Root's podman reads root's file too.
        XCTAssertNoThrow(try ModuleFixture.make(RegistriesConfModule.self, ["user": "root"]))
    }

    /// Debian's shortnames.conf (an excerpt) and an older drop-in of one's own.
    private let shortnames = "[aliases]\n  # docker\n  \"busybox\" = \"docker.io/library/busybox\"\n"
        + "  \"nginx\" = \"docker.io/library/nginx\"\n"
    private let older = "unqualified-search-registries = [\"registry.fedoraproject.org\"]\n\n[[registry]]\nprefix = \"docker.io\"\n"
        + "location = \"docker.io\"\nblocked = false\n"

    /// podman reads registries.conf.d after registries.conf: a drop-in that sets what the task sets, otherwise,
    /// would be what podman uses, so the task fails and names it.
    func testADropInThatOverridesASettingFailsTheTask() throws {
        let search = try plan(["unqualified_search_registries": ["docker.io", "quay.io"]], file: debian,
                              dropIns: [("/etc/containers/registries.conf.d/000-shortnames.conf", shortnames),
                                        ("/etc/containers/registries.conf.d/50-older.conf", older)])
        XCTAssertFalse(search.isChanged)
        XCTAssertEqual(search.failure, "/etc/containers/registries.conf.d/50-older.conf sets unqualified-search-registries too, "
            + "and podman reads it after /etc/containers/registries.conf, so its setting would be the one in effect. Remove it "
            + "from /etc/containers/registries.conf.d/50-older.conf, or edit that file instead "
            + "(path: /etc/containers/registries.conf.d/50-older.conf)")
        // The same entry there replaces the task's: mirrors would be lost.
        let entry = try plan(["registries": [["prefix": "docker.io", "location": "docker.io", "mirrors": [["location": "m.internal"]]]]],
                             file: nil, dropIns: [("/etc/containers/registries.conf.d/50-older.conf", older)])
        XCTAssertEqual(entry.failure?.hasPrefix("/etc/containers/registries.conf.d/50-older.conf sets the [[registry]] docker.io too"),
                       true, entry.failure ?? "")
        // Aliases, other keys and a drop-in that says the same are no conflict.
        let same = "unqualified-search-registries = [\"docker.io\", \"quay.io\"]\n"
        let fine = try plan(["unqualified_search_registries": ["docker.io", "quay.io"], "short_name_mode": "enforcing"], file: nil,
                            dropIns: [("/etc/containers/registries.conf.d/000-shortnames.conf", shortnames),
                                      ("/etc/containers/registries.conf.d/10-same.conf", same)])
        XCTAssertNil(fine.failure)
        XCTAssertEqual(fine.summaries, ["create /etc/containers/registries.conf: unqualified-search-registries, short-name-mode"])
        // A given path is not the file podman reads with these drop-ins: no probe.
        let other = try ModuleFixture.make(RegistriesConfModule.self, ["path": "/srv/registries.conf", "short_name_mode": "enforcing"])
        XCTAssertFalse(other.observations(ModuleContext()).contains(.command(RegistriesDropIns.probe)))
    }

    /// A user's file replaces the system file and its drop-ins for that user: a new one starts from both, so
    /// the user keeps the short-name aliases (without them `podman pull nginx` asks which registry, or fails
    /// without a terminal) and the entries the drop-ins set.
    func testAUsersMissingFileFoldsInTheSystemDropIns() throws {
        let module = try ModuleFixture.make(RegistriesConfModule.self, ["user": "alice", "short_name_mode": "permissive"])
        let probe = module.file.userProbe("alice")
        let p = try ModuleFixture.plan(module, files: [path: ModuleFixture.file(entries)], commands: [
            probe: ModuleFixture.ok("alice:x:1001:1001::/home/alice:/bin/sh\ndir\nmissing\n"),
            RegistriesDropIns.probe: dropIns([("/etc/containers/registries.conf.d/000-shortnames.conf", shortnames),
                                             ("/etc/containers/registries.conf.d/50-older.conf", older)]),
        ])
        XCTAssertNil(p.failure)
        XCTAssertEqual(p.result["drop_ins"], ["/etc/containers/registries.conf.d/000-shortnames.conf",
                                              "/etc/containers/registries.conf.d/50-older.conf"])
        let written = try TOMLDocument(parsing: p.written ?? "")
        XCTAssertEqual(written["aliases", "nginx"], "docker.io/library/nginx")
        XCTAssertEqual(written["unqualified-search-registries"], ["registry.fedoraproject.org"], "the drop-in's list wins, as in podman")
        XCTAssertEqual(written["short-name-mode"], "permissive")
        let registries = written["registry"]?.array?.compactMap(\.table) ?? []
        XCTAssertEqual(registries.count, 2, p.written ?? "")
        XCTAssertEqual(registries.first, ["prefix": "docker.io", "location": "docker.io", "blocked": false],
                       "the drop-in's docker.io entry replaces the system file's, mirrors and all")
        // An existing user file is the user's own: nothing is folded into it.
        let existing = try ModuleFixture.plan(module, commands: [
            probe: ModuleFixture.ok("alice:x:1001:1001::/home/alice:/bin/sh\ndir\nregular file|644|alice|alice|10|1|0|0\n"
                + ContainersConfigFile.contentMarker + "\nshort-name-mode = \"enforcing\"\n"),
            RegistriesDropIns.probe: dropIns([("/etc/containers/registries.conf.d/000-shortnames.conf", shortnames)]),
        ])
        XCTAssertEqual(existing.written, "short-name-mode = \"permissive\"\n")
    }

    /// The real probe under /bin/sh, in file-name order, on files with and without a final line break.
    func testTheDropInProbeReadsFilesInOrder() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("provision-dropins-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        try Data("short-name-mode = \"permissive\"".utf8).write(to: dir.appendingPathComponent("50-b.conf"))
        try Data(shortnames.utf8).write(to: dir.appendingPathComponent("000-a.conf"))
        try Data("ignored = true\n".utf8).write(to: dir.appendingPathComponent("README"))
        var argv = RegistriesDropIns.probe
        argv[argv.count - 1] = dir.path
        let output = try LocalTransport().observe([.command(argv)]).command(argv)
        let read = try RegistriesDropIns.read(output)
        XCTAssertEqual(read.map(\.path), [dir.appendingPathComponent("000-a.conf").path, dir.appendingPathComponent("50-b.conf").path])
        XCTAssertEqual(read.last?.table["short-name-mode"], "permissive")
        XCTAssertEqual(read.first?.table["aliases"]?.table?["busybox"], "docker.io/library/busybox")
    }

    func testArgumentErrors() {
        func message(_ arguments: KeyValuePairs<String, Value>) -> String? {
            do {
                _ = try ModuleFixture.make(RegistriesConfModule.self, arguments)
                return nil
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(["registries": [["prefix": "example.com"]]]),
                       "registries[0]: needs a location (only a wildcard prefix such as *.example.com may go without one)")
        XCTAssertNil(message(["registries": [["prefix": "*.example.com", "blocked": true]]]))
        XCTAssertEqual(message(["registries": [["location": "a", "mirror": []]]]),
                       "registries[0]: unknown key 'mirror' (did you mean 'mirrors'?); the keys are prefix, location, insecure, blocked, mirrors")
        XCTAssertEqual(message(["registries": [["location": "a"], ["prefix": "a", "location": "b"]]]),
                       "registries names the prefix a twice; containers/image allows one entry per prefix")
        XCTAssertEqual(message(["registries": [["location": "a", "insecure": "maybe"]]]),
                       "registries[0].insecure must be a boolean, not \"maybe\"")
        XCTAssertEqual(message(["registries": [["location": "a", "mirrors": [["insecure": true]]]]]),
                       "registries[0].mirrors[0] needs a location")
        XCTAssertEqual(message(["registries": ["a.io"]]),
                       "registries[0]: must be a mapping with prefix, location, insecure, blocked, mirrors")
    }
}
