import XCTest
@testable import Provisioner

final class TOMLEditorTests: XCTestCase {
    private let storage = """
        # storage.conf: test copy
        [storage]

        # Default storage driver
        driver = "overlay"   # keep this comment
          runroot = '/run/containers/storage'
        #graphroot = "/var/lib/containers/storage"

        [storage.options]
        additionalimagestores = [
          "/a",  # first
        ]
        pull_options = {enable_partial_images = "false", use_hard_links = "false"}

        [storage.options.overlay]
        #mountopt = "nodev"

        """

    func testUnchangedFileRoundTripsByteForByte() throws {
        for text in [storage, "", "a=1", "\u{FEFF}x = 'y'\r\n\r\n[t]\r\n  k = [ 1 ,2 ]  # c\r\n", "# only a comment"] {
            let editor = try TOMLEditor(text: text)
            XCTAssertEqual(editor.text, text)
            XCTAssertFalse(editor.isChanged)
        }
    }

    func testSettingAnExistingKeyReplacesOnlyItsValue() throws {
        var editor = try TOMLEditor(text: storage)
        XCTAssertTrue(try editor.set("driver", to: "vfs", in: ["storage"]))
        XCTAssertTrue(try editor.set("runroot", to: "/tmp/run \"x\"", in: ["storage"]))
        XCTAssertEqual(editor.text, storage
            .replacingOccurrences(of: "driver = \"overlay\"", with: "driver = \"vfs\"")
            .replacingOccurrences(of: "runroot = '/run/containers/storage'", with: "runroot = \"/tmp/run \\\"x\\\"\""))
        XCTAssertEqual(editor.value("runroot", in: ["storage"]), "/tmp/run \"x\"")
    }

    func testSettingTheCurrentValueChangesNothing() throws {
        var editor = try TOMLEditor(text: storage)
        XCTAssertFalse(try editor.set("driver", to: "overlay", in: ["storage"]))
        XCTAssertFalse(try editor.set("runroot", to: "/run/containers/storage", in: ["storage"]))  // literal stays literal
        XCTAssertFalse(try editor.set("additionalimagestores", to: ["/a"], in: ["storage", "options"]))
        XCTAssertFalse(try editor.set("use_hard_links", to: "false", in: ["storage", "options", "pull_options"]))
        XCTAssertFalse(editor.isChanged)
        XCTAssertEqual(editor.bytes, Array(storage.utf8))
        // And a second identical edit after a real one is a no-op too.
        XCTAssertTrue(try editor.set("graphroot", to: "/srv/x", in: ["storage"]))
        let once = editor.text
        XCTAssertFalse(try editor.set("graphroot", to: "/srv/x", in: ["storage"]))
        XCTAssertEqual(editor.text, once)
    }

    func testNewKeyGoesAfterTheTablesLastKeyWithItsIndentation() throws {
        var editor = try TOMLEditor(text: storage)
        try editor.set("graphroot", to: "/srv/containers", in: ["storage"])
        XCTAssertEqual(editor.text, storage.replacingOccurrences(
            of: "  runroot = '/run/containers/storage'\n",
            with: "  runroot = '/run/containers/storage'\n  graphroot = \"/srv/containers\"\n"))
    }

    func testCommentedOutKeysStayAndTheRealKeyGoesUnderTheHeader() throws {
        var editor = try TOMLEditor(text: storage)
        try editor.set("mountopt", to: "nodev,metacopy=on", in: ["storage", "options", "overlay"])
        XCTAssertEqual(editor.text, storage.replacingOccurrences(
            of: "[storage.options.overlay]\n#mountopt = \"nodev\"\n",
            with: "[storage.options.overlay]\nmountopt = \"nodev,metacopy=on\"\n#mountopt = \"nodev\"\n"))
    }

    func testMissingTableIsAddedAtTheEnd() throws {
        var editor = try TOMLEditor(text: "[engine]\nruntime = \"crun\"")
        try editor.set("crun", to: ["/usr/bin/crun", "/bin/crun"], in: ["engine", "runtimes"])
        try editor.set("runc", to: ["/usr/bin/runc"], in: ["engine", "runtimes"])
        XCTAssertEqual(editor.text, """
            [engine]
            runtime = "crun"

            [engine.runtimes]
            crun = ["/usr/bin/crun", "/bin/crun"]
            runc = ["/usr/bin/runc"]

            """)
    }

    func testTopLevelKeysGoAboveTheFirstHeaderAndItsComments() throws {
        var editor = try TOMLEditor(text: "# file header\n\n# about [a]\n[a]\nx = 1\n")
        try editor.set("top", to: true)
        XCTAssertEqual(editor.text, "# file header\n\ntop = true\n\n# about [a]\n[a]\nx = 1\n")
        try editor.set("next", to: 2)
        XCTAssertEqual(editor.text, "# file header\n\ntop = true\nnext = 2\n\n# about [a]\n[a]\nx = 1\n")
        var commentsOnly = try TOMLEditor(text: "# all\n# comments")
        try commentsOnly.set("k", to: "v")
        XCTAssertEqual(commentsOnly.text, "# all\n# comments\n\nk = \"v\"\n")
    }

    func testTablesMadeByDottedKeysImplicitlyOrInline() throws {
        var editor = try TOMLEditor(text: "site.name = \"x\"\n[a.b]\nc = 1\n[inline]\nt = { x = 1 }\n")
        try editor.set("port", to: 80, in: ["site"])
        try editor.set("y", to: 2, in: ["a"])
        try editor.set("y", to: [1.5, -0.0], in: ["inline", "t"])
        try editor.set("z", to: "deep", in: ["inline", "t", "u"])
        XCTAssertEqual(editor.text, """
            site.name = "x"
            site.port = 80
            [a.b]
            c = 1
            [inline]
            t = { x = 1, y = [1.5, -0.0], u = { z = "deep" } }

            [a]
            y = 2

            """)
        try editor.remove("x", from: ["inline", "t"])
        XCTAssertEqual(editor.value("t", in: ["inline"]), ["y": [1.5, -0.0], "u": ["z": "deep"]])
    }

    func testRemovingKeys() throws {
        var editor = try TOMLEditor(text: storage)
        XCTAssertTrue(try editor.remove("driver", from: ["storage"]))
        XCTAssertTrue(try editor.remove("additionalimagestores", from: ["storage", "options"]))
        XCTAssertFalse(try editor.remove("driver", from: ["storage"]))
        XCTAssertFalse(try editor.remove("nothing", from: ["no", "such", "table"]))
        XCTAssertEqual(editor.text, storage
            .replacingOccurrences(of: "driver = \"overlay\"   # keep this comment\n", with: "")
            .replacingOccurrences(of: "additionalimagestores = [\n  \"/a\",  # first\n]\n", with: ""))
    }

    func testAddingTables() throws {
        var editor = try TOMLEditor(text: storage)
        XCTAssertFalse(try editor.addTable(["storage", "options"]))
        XCTAssertFalse(try editor.addTable(["storage"]))
        XCTAssertTrue(try editor.addTable(["storage", "options", "thinpool"]))
        XCTAssertEqual(editor.text, storage + "\n[storage.options.thinpool]\n")
        XCTAssertFalse(try editor.addTable(["storage", "options", "thinpool"]))
    }

    func testAppendingArrayOfTablesEntriesAndEditingThem() throws {
        var editor = try TOMLEditor(text: "unqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\nlocation = \"a.io\"\n")
        let index = try editor.appendTable([
            "prefix": "example.com/foo", "location": "b.io", "insecure": true,
            "mirror": [["location": "m0.local"], ["location": "m1.local", "insecure": false]],
        ], to: ["registry"])
        XCTAssertEqual(index, 1)
        try editor.set("blocked", to: true, in: .element(0, of: ["registry"]))
        try editor.set("location", to: "c.io", in: .element(1, of: ["registry"]))
        XCTAssertEqual(editor.text, """
            unqualified-search-registries = ["docker.io"]

            [[registry]]
            location = "a.io"
            blocked = true

            [[registry]]
            prefix = "example.com/foo"
            location = "c.io"
            insecure = true

            [[registry.mirror]]
            location = "m0.local"

            [[registry.mirror]]
            location = "m1.local"
            insecure = false

            """)
        XCTAssertEqual(editor.elements(of: ["registry"]).count, 2)
        XCTAssertEqual(editor.value("location", in: .element(1, of: ["registry"])), "c.io")
        XCTAssertEqual(editor.value("mirror", in: .element(1, of: ["registry"]))?.array?.count, 2)
        XCTAssertFalse(try editor.set("location", to: "c.io", in: .element(1, of: ["registry"])))
    }

    func testCanonicalValues() throws {
        var editor = try TOMLEditor(text: "")
        try editor.merge([
            "s": "tab\t\"quote\" back\\slash \u{1} é",
            "i": -42, "f": 1e300, "g": 0.1, "inf": .float(-.infinity), "b": false,
            "d": .dateTime(.offsetDateTime(TOMLDate(year: 2024, month: 2, day: 29),
                                           TOMLTime(hour: 1, minute: 2, second: 3, nanosecond: 500_000_000),
                                           offsetMinutes: 330)),
            "a": [], "nested": [[1, 2], ["x"]], "t": ["key with space": 1, "b": [:]],
        ])
        XCTAssertEqual(editor.text, """
            s = "tab\\t\\"quote\\" back\\\\slash \\u0001 é"
            i = -42
            f = 1e+300
            g = 0.1
            inf = -inf
            b = false
            d = 2024-02-29T01:02:03.5+05:30
            a = []
            nested = [[1, 2], ["x"]]
            t = { "key with space" = 1, b = {} }

            """)
        // What the editor writes reads back as the same values.
        let reread = try TOMLDocument(parsing: editor.text)
        XCTAssertEqual(reread.root, editor.document.root)
        XCTAssertEqual(reread["s"], "tab\t\"quote\" back\\slash \u{1} é")
    }

    func testOneShotEditReportsWhetherTheTextChanged() throws {
        let desired: TOMLTable = ["driver": "overlay", "graphroot": "/srv/c"]
        let first = try TOMLEditor.edit(storage) { try $0.merge(desired, into: ["storage"]) }
        XCTAssertTrue(first.changed)
        XCTAssertEqual(try TOMLDocument(parsing: first.text)["storage", "graphroot"], "/srv/c")
        let second = try TOMLEditor.edit(first.text) { try $0.merge(desired, into: ["storage"]) }
        XCTAssertFalse(second.changed)
        XCTAssertEqual(second.text, first.text)
    }

    func testEdgesOfTheFile() throws {
        var unterminated = try TOMLEditor(text: "a = 1")
        try unterminated.set("b", to: 2)
        XCTAssertEqual(unterminated.text, "a = 1\nb = 2\n")
        try unterminated.remove("b")
        XCTAssertEqual(unterminated.text, "a = 1\n")

        var empty = try TOMLEditor(text: "")
        try empty.set("k", to: "v", in: ["t"])
        XCTAssertEqual(empty.text, "[t]\nk = \"v\"\n")

        var bom = try TOMLEditor(text: "\u{FEFF}# about t\n[t]\n")
        try bom.set("top", to: 1)
        XCTAssertEqual(bom.text, "\u{FEFF}top = 1\n\n# about t\n[t]\n")

        var multiline = try TOMLEditor(text: "[t]\nlist = [\n  1,\n  2,\n] # trailing\ns = \"\"\"\nx\"\"\"\n[u]\n")
        try multiline.set("after", to: true, in: ["t"])
        try multiline.set("list", to: [3], in: ["t"])
        XCTAssertEqual(multiline.text, "[t]\nlist = [3] # trailing\ns = \"\"\"\nx\"\"\"\nafter = true\n[u]\n")
        try multiline.remove("s", from: ["t"])
        XCTAssertEqual(multiline.text, "[t]\nlist = [3] # trailing\nafter = true\n[u]\n")
    }

    func testCRLFFilesGetCRLFLines() throws {
        var editor = try TOMLEditor(text: "[a]\r\nx = 1\r\n")
        try editor.set("y", to: 2, in: ["a"])
        try editor.set("z", to: 3, in: ["b"])
        XCTAssertEqual(editor.text, "[a]\r\nx = 1\r\ny = 2\r\n\r\n[b]\r\nz = 3\r\n")
    }

    private let registries = """
        unqualified-search-registries = ["docker.io"]

        [[registry]]
        location = "a.io"

        # mirrors of a.io
        [[registry.mirror]]
        location = "m0.local"  # first

        [[registry.mirror]]
        location = "m1.local"

        [[registry]]
        prefix = "b.io"
        location = "b.internal"
        [registry.extra]
        x = 1

        # trailing comment
        """

    func testSettingTablesReplacesOnlyTheElementsOwnSections() throws {
        var editor = try TOMLEditor(text: registries)
        XCTAssertFalse(try editor.setTables("mirror", to: [["location": "m0.local"], ["location": "m1.local"]],
                                            in: .element(0, of: ["registry"])))
        XCTAssertFalse(try editor.setTables("mirror", to: [], in: .element(1, of: ["registry"])))
        XCTAssertFalse(editor.isChanged)

        XCTAssertTrue(try editor.setTables("mirror", to: [["location": "n.local", "insecure": true]],
                                           in: .element(0, of: ["registry"])))
        XCTAssertEqual(editor.text, registries.replacingOccurrences(of: """
            [[registry.mirror]]
            location = "m0.local"  # first

            [[registry.mirror]]
            location = "m1.local"

            """, with: """
            [[registry.mirror]]
            location = "n.local"
            insecure = true

            """))
        XCTAssertEqual(editor.value("mirror", in: .element(0, of: ["registry"])), [["location": "n.local", "insecure": true]])
        XCTAssertNil(editor.value("mirror", in: .element(1, of: ["registry"])))
    }

    func testSettingTablesWhereThereWereNoneGoesAfterTheElementsSections() throws {
        var editor = try TOMLEditor(text: registries)
        try editor.setTables("mirror", to: [["location": "c.local"], ["location": "d.local"]], in: .element(1, of: ["registry"]))
        XCTAssertEqual(editor.text, registries.replacingOccurrences(of: "x = 1\n", with: """
            x = 1

            [[registry.mirror]]
            location = "c.local"

            [[registry.mirror]]
            location = "d.local"

            """))
        XCTAssertEqual(editor.value("mirror", in: .element(1, of: ["registry"]))?.array?.count, 2)
        XCTAssertEqual(editor.value("extra", in: .element(1, of: ["registry"])), ["x": 1])
        // At the top level (or in a plain table) they go at the end of the file.
        var top = try TOMLEditor(text: "a = 1")
        try top.setTables("t", to: [["k": "v"]])
        XCTAssertEqual(top.text, "a = 1\n\n[[t]]\nk = \"v\"\n")
    }

    func testSettingNoTablesRemovesTheSectionsAndTheirBlankLines() throws {
        var editor = try TOMLEditor(text: registries)
        XCTAssertTrue(try editor.setTables("mirror", to: [], in: .element(0, of: ["registry"])))
        XCTAssertEqual(editor.text, registries.replacingOccurrences(of: """
            location = "a.io"

            # mirrors of a.io
            [[registry.mirror]]
            location = "m0.local"  # first

            [[registry.mirror]]
            location = "m1.local"

            """, with: """
            location = "a.io"

            # mirrors of a.io

            """))
        XCTAssertNil(editor.value("mirror", in: .element(0, of: ["registry"])))
        XCTAssertEqual(editor.elements(of: ["registry"]).count, 2)
        // Whole top-level arrays of tables too.
        XCTAssertTrue(try editor.setTables("registry", to: [["location": "only.io"]]))
        XCTAssertEqual(editor.elements(of: ["registry"]), [["location": "only.io"]])
        XCTAssertTrue(editor.text.hasSuffix("# trailing comment"))
    }

    func testSettingTablesWrittenInlineKeepsThemInline() throws {
        var editor = try TOMLEditor(text: "[[registry]]\nlocation = \"a\"\nmirror = [{ location = \"m\" }] # inline\n")
        try editor.setTables("mirror", to: [["location": "n"]], in: .element(0, of: ["registry"]))
        XCTAssertEqual(editor.text, "[[registry]]\nlocation = \"a\"\nmirror = [{ location = \"n\" }] # inline\n")
        try editor.setTables("mirror", to: [], in: .element(0, of: ["registry"]))
        XCTAssertEqual(editor.text, "[[registry]]\nlocation = \"a\"\n")
        XCTAssertThrowsError(try editor.setTables("location", to: [["x": 1]], in: .element(0, of: ["registry"]))) {
            XCTAssertEqual("\($0)", "<toml>:2:12: location in [[registry]] #0 is a string, not an array of tables")
        }
        XCTAssertThrowsError(try editor.setTables("mirror", to: [], in: .element(1, of: ["registry"]))) {
            XCTAssertEqual("\($0)", "[[registry]] #1 does not exist: the file has 1 [[registry]] tables")
        }
    }

    func testEditsTheStructureForbidsAreErrors() throws {
        var editor = try TOMLEditor(text: "name = \"x\"\n[[registry]]\nlocation = \"a\"\n[t]\nsub.k = 1\n", file: "r.conf")
        XCTAssertThrowsError(try editor.set("k", to: 1, in: ["name"])) {
            XCTAssertEqual("\($0)", "r.conf:1:8: name is a string, not a table")
        }
        XCTAssertThrowsError(try editor.set("k", to: 1, in: ["registry"])) {
            XCTAssertEqual("\($0)", "r.conf:2:3: registry is an array of tables; address one with .element(_:of:)")
        }
        XCTAssertThrowsError(try editor.set("k", to: 1, in: .element(3, of: ["registry"]))) {
            XCTAssertEqual("\($0)", "[[registry]] #3 does not exist: the file has 1 [[registry]] tables")
        }
        XCTAssertThrowsError(try editor.set("sub", to: 1, in: ["t"])) {
            XCTAssertEqual("\($0)", "r.conf:5:1: t.sub is a table with its own section or dotted keys; set the keys inside it instead")
        }
        XCTAssertThrowsError(try editor.appendTable([:], to: ["name"])) {
            XCTAssertEqual("\($0)", "r.conf:1:8: name is not an array of [[name]] tables")
        }
        XCTAssertFalse(editor.isChanged)
    }
}
