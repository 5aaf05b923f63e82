import Foundation
import XCTest
@testable import Provisioner

/// ansible.cfg discovery and parsing, connection settings from host variables,
/// become precedence, and the quoting and splitting of shell words. No ssh needed.
final class SSHSettingsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("home"), withIntermediateDirectories: true)
        chmod(folder.path, 0o755)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func vars(_ pairs: (String, Value)...) -> ValueDict { ValueDict(pairs) }

    // MARK: ansible.cfg

    func testFindsTheConfigWhereAnsibleLooks() throws {
        let home = folder.appendingPathComponent("home").path
        let project = folder.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let environment = ["HOME": home]
        XCTAssertNotEqual(AnsibleConfig.locate(environment: environment, currentDirectory: project.path).path, project.path + "/ansible.cfg")
        try "[defaults]\n".write(toFile: home + "/.ansible.cfg", atomically: true, encoding: .utf8)
        XCTAssertEqual(AnsibleConfig.locate(environment: environment, currentDirectory: project.path).path, home + "/.ansible.cfg")
        try "[defaults]\nforks = 7\n".write(to: project.appendingPathComponent("ansible.cfg"), atomically: true, encoding: .utf8)
        XCTAssertEqual(AnsibleConfig.locate(environment: environment, currentDirectory: project.path).path, project.path + "/ansible.cfg")
        XCTAssertEqual(try AnsibleConfig.load(environment: environment, currentDirectory: project.path).forks, 7)
        // ANSIBLE_CONFIG first; a folder means the ansible.cfg inside it.
        let explicit = folder.appendingPathComponent("explicit.cfg").path
        try "[defaults]\n".write(toFile: explicit, atomically: true, encoding: .utf8)
        XCTAssertEqual(AnsibleConfig.locate(environment: ["HOME": home, "ANSIBLE_CONFIG": explicit],
                                            currentDirectory: project.path).path, explicit)
        XCTAssertEqual(AnsibleConfig.locate(environment: ["HOME": home, "ANSIBLE_CONFIG": project.path],
                                            currentDirectory: folder.path).path, project.path + "/ansible.cfg")
        // A world-writable working folder's ansible.cfg is skipped, with a warning.
        chmod(project.path, 0o777)
        let skipped = AnsibleConfig.locate(environment: environment, currentDirectory: project.path)
        XCTAssertEqual(skipped.path, home + "/.ansible.cfg")
        XCTAssertTrue(skipped.warnings.first?.contains("world-writable") == true, "\(skipped.warnings)")
    }

    func testReadsTheKeysProvisionUsesAndListsTheRest() throws {
        let path = folder.appendingPathComponent("ansible.cfg").path
        let text = """
            # comment
            ; another
            [defaults]
            inventory = inventory/hosts.yml, /etc/extra ; inline comment
            Forks: 12
            host_key_checking = no
            remote_user = deploy
            private_key_file = ~/.ssh/deploy_key
            roles_path = roles:/usr/share/roles
            timeout = 20
            gathering = smart
            retry_files_enabled = False

            [ssh_connection]
            ssh_args = -o ControlMaster=auto
               -o ServerAliveInterval=5
            ssh_common_args = -o ProxyJump=bastion
            ssh_extra_args = -o "SendEnv=LANG LC_*"
            control_path_dir = ~/.ansible/cp
            pipelining = True#not a comment

            [privilege_escalation]
            become = yes
            become_user = admin
            """
        let config = try AnsibleConfig(text: text, path: path, environment: ["HOME": "/home/me"])
        XCTAssertEqual(config.inventory, [folder.path + "/inventory/hosts.yml", "/etc/extra"])
        XCTAssertEqual(config.forks, 12)
        XCTAssertFalse(config.hostKeyChecking)
        XCTAssertEqual(config.remoteUser, "deploy")
        XCTAssertEqual(config.privateKeyFile, "/home/me/.ssh/deploy_key")
        XCTAssertEqual(config.rolesPath, [folder.path + "/roles", "/usr/share/roles"])
        XCTAssertEqual(config.timeout, 20)
        XCTAssertEqual(config.sshArgs, "-o ControlMaster=auto\n-o ServerAliveInterval=5")
        XCTAssertEqual(config.sshCommonArgs, "-o ProxyJump=bastion")
        XCTAssertEqual(config.sshExtraArgs, #"-o "SendEnv=LANG LC_*""#)
        XCTAssertEqual(config.controlPathDir, "/home/me/.ansible/cp")
        XCTAssertEqual(config.become, true)
        XCTAssertEqual(config.becomeUser, "admin")
        XCTAssertEqual(config.ignored.map(\.description), [
            "\(path):11:1: [defaults] gathering", "\(path):12:1: [defaults] retry_files_enabled",
            "\(path):20:1: [ssh_connection] pipelining",
        ])
    }

    func testEnvironmentOverridesTheFile() throws {
        let text = "[defaults]\nforks = 3\nremote_user = fromfile\nhost_key_checking = True\nroles_path = a\n"
            + "[ssh_connection]\nssh_args = -C\n"
        let environment = ["ANSIBLE_FORKS": "9", "ANSIBLE_REMOTE_USER": "fromenv", "ANSIBLE_HOST_KEY_CHECKING": "false",
                           "ANSIBLE_SSH_ARGS": "-o Compression=no", "ANSIBLE_PRIVATE_KEY_FILE": "/keys/id",
                           "ANSIBLE_INVENTORY": "/inv/a,/inv/b", "ANSIBLE_ROLES_PATH": "/r1:/r2"]
        let config = try AnsibleConfig(text: text, path: folder.appendingPathComponent("ansible.cfg").path, environment: environment)
        XCTAssertEqual(config.forks, 9)
        XCTAssertEqual(config.remoteUser, "fromenv")
        XCTAssertFalse(config.hostKeyChecking)
        XCTAssertEqual(config.sshArgs, "-o Compression=no")
        XCTAssertEqual(config.privateKeyFile, "/keys/id")
        XCTAssertEqual(config.inventory, ["/inv/a", "/inv/b"])
        XCTAssertEqual(config.rolesPath, ["/r1", "/r2"])
        XCTAssertTrue(AnsibleConfig().hostKeyChecking, "checked unless turned off")
    }

    func testMalformedConfigNamesFileAndLine() {
        let cases = [
            ("forks = 3\n", "before any [section]", 1),
            ("[defaults]\nforks\n", "expected 'key = value'", 2),
            ("[defaults]\nforks = many\n", "forks must be a whole number", 2),
            ("[defaults]\nhost_key_checking = maybe\n", "host_key_checking must be a boolean", 2),
            ("[defaults]\nforks = 1\nforks = 2\n", "set twice", 3),
            ("[defaults]\n[defaults]\n", "appears twice", 2),
            ("[defaults]\nremote_port = 66044\n", "port 66044 is out of range", 2),
        ]
        for (text, message, line) in cases {
            XCTAssertThrowsError(try AnsibleConfig(text: text, path: "/x/ansible.cfg")) { error in
                let error = error as? ParseError
                XCTAssertTrue(error?.message.contains(message) == true, "\(text): \(String(describing: error))")
                XCTAssertEqual(error?.location.line, line, text)
                XCTAssertEqual(error?.location.file, "/x/ansible.cfg")
            }
        }
    }

    // MARK: Connection settings

    func testVariablesOverrideTheConfig() throws {
        let config = try AnsibleConfig(text: """
            [defaults]
            remote_user = cfguser
            private_key_file = /cfg/key
            remote_port = 2200
            [ssh_connection]
            ssh_common_args = -o ProxyJump=cfg
            """, path: "/p/ansible.cfg")
        let fromConfig = try SSHTarget(host: "web1", variables: ValueDict(), config: config)
        XCTAssertEqual(fromConfig.host, "web1")
        XCTAssertEqual(fromConfig.user, "cfguser")
        XCTAssertEqual(fromConfig.port, 2200)
        XCTAssertEqual(fromConfig.privateKeyFile, "/cfg/key")
        XCTAssertEqual(fromConfig.commonArgs, ["-o", "ProxyJump=cfg"])
        let target = try SSHTarget(host: "web1", variables: vars(
            ("ansible_host", "10.0.0.5"), ("ansible_port", "2222"), ("ansible_user", "admin"),
            ("ansible_ssh_private_key_file", "/k/id"), ("ansible_ssh_common_args", "-o ProxyJump=\"jump host\""),
            ("ansible_ssh_extra_args", "-o 'SendEnv=A B' -4"), ("ansible_ssh_args", "-C")), config: config)
        XCTAssertEqual(target.description, "admin@10.0.0.5:2222")
        XCTAssertEqual(target.arguments(remoteCommand: "exec /bin/sh"), [
            "-o", "BatchMode=yes", "-C", "-o", "Port=2222", "-o", "IdentityFile=\"/k/id\"", "-o", "User=\"admin\"",
            "-o", "ConnectTimeout=10", "-o", "ProxyJump=jump host", "-o", "SendEnv=A B", "-4",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-T", "--", "10.0.0.5", "exec /bin/sh",
        ])
        // Nothing set: Ansible's default ssh_args (connections shared for 60 s, sockets in
        // ~/.ansible/cp); the rest is for ssh and ~/.ssh/config to decide.
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        let plain = try SSHTarget(host: "alias", variables: ValueDict())
        XCTAssertEqual(plain.arguments(remoteCommand: "x"), [
            "-o", "BatchMode=yes", "-C", "-o", "ControlMaster=auto", "-o", "ControlPersist=60s",
            "-o", "ControlPath=\(home)/.ansible/cp/%C", "-o", "ConnectTimeout=10",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4", "-T", "--", "alias", "x",
        ])
        XCTAssertEqual(plain.controlPathDirectory, home + "/.ansible/cp")
        // control_path_dir moves the sockets; a ControlPath of the user's own is kept; empty ssh_args share nothing.
        let moved = try AnsibleConfig(text: "[ssh_connection]\ncontrol_path_dir = /run/cp\n", path: "/p/ansible.cfg")
        XCTAssertTrue(try SSHTarget(host: "h", variables: ValueDict(), config: moved).arguments(remoteCommand: "x")
            .contains("ControlPath=/run/cp/%C"))
        let own = try SSHTarget(host: "h", variables: vars(("ansible_ssh_common_args", "-o ControlPath=/s/%h")))
        XCTAssertNil(own.controlPathDirectory)
        XCTAssertFalse(own.arguments(remoteCommand: "x").contains { $0.hasPrefix("ControlPath=") && $0 != "ControlPath=/s/%h" })
        let unshared = try SSHTarget(host: "h", variables: vars(("ansible_ssh_args", "")))
        XCTAssertNil(unshared.controlPathDirectory)
        XCTAssertFalse(unshared.arguments(remoteCommand: "x").contains { $0.hasPrefix("Control") })
        XCTAssertEqual(try SSHTarget(host: "h", variables: vars(("ansible_port", 22))).port, 22)
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: vars(("ansible_port", 65536))))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: vars(("ansible_host", "two words"))))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: vars(("ansible_user", .list([])))))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: vars(("ansible_user", "a\"b"))))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: vars(("ansible_ssh_private_key_file", "/k\nx"))))
    }

    func testKnownHostsNamesForMessages() throws {
        let target = try SSHTarget(host: "h", variables: vars(("ansible_port", 2222),
                                                              ("ansible_ssh_common_args", "-oUserKnownHostsFile=/k/hosts")))
        XCTAssertEqual(target.knownHostsName, "[h]:2222")
        XCTAssertEqual(target.knownHostsFile, "/k/hosts")
        XCTAssertEqual(try SSHTarget(host: "h", variables: vars(("ansible_port", 22))).knownHostsName, "h")
        XCTAssertEqual(try SSHTarget(host: "h", variables: vars(("ansible_ssh_extra_args", "-o UserKnownHostsFile=/a /b")))
            .knownHostsFile, "/a")
    }

    func testConfiguredUserComesFromSSH() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh") else { throw XCTSkip("ssh is not installed") }
        let target = try SSHTarget(host: "example.invalid", variables: vars(("ansible_ssh_common_args", "-F /dev/null -l someone")))
        XCTAssertEqual(target.configuredUser(), "someone")
    }

    // MARK: become

    func testBecomePrecedence() throws {
        XCTAssertNil(try Become.resolve(keyword: nil, variables: ValueDict(), host: "h"))
        XCTAssertEqual(try Become.resolve(keyword: Become(), variables: ValueDict(), host: "h"), Become())
        XCTAssertNil(try Become.resolve(keyword: Become(), variables: vars(("ansible_become", "no")), host: "h"))
        XCTAssertEqual(try Become.resolve(keyword: nil, variables: vars(("ansible_become", true), ("ansible_become_user", "ollama")),
                                          host: "h"), Become(user: "ollama"))
        XCTAssertEqual(try Become.resolve(keyword: Become(user: "play"), variables: vars(("ansible_become_user", "host")),
                                          host: "h"), Become(user: "host"))
        let config = try AnsibleConfig(text: "[privilege_escalation]\nbecome = True\nbecome_user = cfg\n", path: nil)
        XCTAssertEqual(try Become.resolve(keyword: nil, variables: ValueDict(), config: config, host: "h"), Become(user: "cfg"))
        XCTAssertThrowsError(try Become.resolve(keyword: nil, variables: vars(("ansible_become", true),
                                                                              ("ansible_become_method", "doas")), host: "h"))
        XCTAssertNil(try Become.resolve(keyword: nil, variables: vars(("ansible_become_method", "doas")), host: "h"),
                     "the method matters only when becoming")
    }

    func testRemoteCommandWrapsTheShellInSudo() throws {
        let root = try SSHTarget(host: "h", variables: vars(("ansible_user", "root")))
        let user = try SSHTarget(host: "h", variables: vars(("ansible_user", "deploy")))
        XCTAssertEqual(try SSHSession.remoteCommand(user, nil), "exec /bin/sh")
        XCTAssertEqual(try SSHSession.remoteCommand(user, Become()), "exec sudo -n -H -u 'root' -- /bin/sh")
        XCTAssertEqual(try SSHSession.remoteCommand(root, Become()), "exec /bin/sh", "root needs no sudo to be root")
        XCTAssertEqual(try SSHSession.remoteCommand(root, Become(user: "it's")), #"exec sudo -n -H -u 'it'\''s' -- /bin/sh"#)
    }

    // MARK: Failure messages

    func testFailureMessagesSayWhatToDo() throws {
        let target = try SSHTarget(host: "web1", variables: vars(("ansible_host", "10.1.1.1"), ("ansible_user", "deploy")))
        func explain(_ stderr: String, connected: Bool = false, become: Become? = Become()) -> String {
            SSHFailure.explain(stderr: stderr, exitStatus: 255, target: target, become: become, connected: connected)
        }
        XCTAssertEqual(explain("ssh: Could not resolve hostname 10.1.1.1: Name or service not known\n"),
                       "cannot connect to 10.1.1.1 port 22: Name or service not known")
        XCTAssertTrue(explain("No ED25519 host key is known for 10.1.1.1 and you have requested strict checking.\r\n"
            + "Host key verification failed.\r\n").contains("`ssh-keyscan -p 22 10.1.1.1 >> ~/.ssh/known_hosts`"))
        XCTAssertTrue(explain("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n")
            .contains("`ssh-keygen -R '10.1.1.1'`"))
        XCTAssertEqual(explain("sudo: a password is required\n"),
                       "sudo needs a password on 10.1.1.1; allow NOPASSWD for deploy (e.g. `deploy ALL=(ALL) NOPASSWD: ALL`"
                       + " in /etc/sudoers.d/deploy): provision runs `sudo -n` to become root and never types passwords")
        XCTAssertTrue(explain("sudo: sorry, you must have a tty to run sudo\n").contains("Defaults:deploy !requiretty"))
        XCTAssertEqual(explain("Sorry, user deploy is not allowed to execute '/bin/sh' as ollama on web1.\n",
                               become: Become(user: "ollama")),
                       "sudo refused to let deploy become ollama on 10.1.1.1"
                       + " (Sorry, user deploy is not allowed to execute '/bin/sh' as ollama on web1.)")
        XCTAssertEqual(explain("sh: 1: exec: sudo: not found\n"), "sudo is not installed on 10.1.1.1, and becoming root needs it")
        XCTAssertEqual(explain("Connection to 10.1.1.1 closed by remote host.\n", connected: true, become: nil),
                       "the connection to deploy@10.1.1.1 was lost (ssh exited with status 255): Connection to 10.1.1.1 closed by remote host.")
        XCTAssertEqual(explain("", connected: false, become: nil), "ssh to deploy@10.1.1.1 failed (ssh exited with status 255)")
    }

    // MARK: Shell words

    func testQuotingAndSplitting() throws {
        XCTAssertEqual(try RemoteShell.quote("plain"), "'plain'")
        XCTAssertEqual(try RemoteShell.quote("it's"), #"'it'\''s'"#)
        XCTAssertEqual(try RemoteShell.quote(""), "''")
        XCTAssertEqual(try RemoteShell.quote("''é\n"), #"''\'''\''é"# + "\n'")
        XCTAssertThrowsError(try RemoteShell.quote("a\0b"))
        XCTAssertEqual(RemoteShell.quoted("it's"), #"'it'\''s'"#, "the same words for scripts")
        XCTAssertEqual(RemoteShell.quoted("a\0b"), "'a\0b'", "quoted does not judge: a script's text may hold a NUL")
        XCTAssertEqual(try RemoteShell.split(#"-o Foo=1 -o Bar="foo bar" 'single \x' a\ b "q\"q\\q\x" '' -4"#),
                       ["-o", "Foo=1", "-o", "Bar=foo bar", #"single \x"#, "a b", #"q"q\q\x"#, "-4"])
        XCTAssertEqual(try RemoteShell.split("  \n "), [])
        XCTAssertThrowsError(try RemoteShell.split("-o 'open"))
        XCTAssertThrowsError(try RemoteShell.split("trailing\\"))
        XCTAssertTrue(RemoteShell.isVariableName("_A1"))
        XCTAssertFalse(RemoteShell.isVariableName("1A"))
        XCTAssertFalse(RemoteShell.isVariableName("A-B"))
        XCTAssertFalse(RemoteShell.isVariableName(""))
    }

    func testRepliesAreParsedStrictly() throws {
        func parse(_ lines: [String]) throws -> RemoteShellReply {
            var rest = lines.map { Array($0.utf8) }
            return try RemoteShellReply.read {
                guard !rest.isEmpty else { throw SSHTestError("ran out of lines") }
                return rest.removeFirst()
            }
        }
        XCTAssertEqual(try parse(["@OK"]), .done)
        XCTAssertEqual(try parse(["@M"]), .missing)
        XCTAssertEqual(try parse(["@E " + Data("boom\n".utf8).base64EncodedString()]), .failure("boom"))
        XCTAssertEqual(try parse(["@C 3", Data("out".utf8).base64EncodedString(), ""]),
                       .command(CommandOutput(status: 3, stdout: "out", stderr: "")))
        let stat = "a1ff 0 0 6 1700000000 1 2023-11-14 22:13:20.250000000 +0000"
        XCTAssertEqual(try parse(["@F " + stat, "root", "UNKNOWN", Data("target\n".utf8).base64EncodedString(), "-"]),
                       .file(FileState(kind: .link, mode: 0o777, owner: "root", group: "0", size: 6,
                                       modified: 1_700_000_000.25, linkTarget: "target")))
        XCTAssertThrowsError(try parse(["stray output"]))
        XCTAssertThrowsError(try parse(["@C x"]))
        XCTAssertThrowsError(try parse(["@F short"]))
        let outputs = Data("onetwo!".utf8).base64EncodedString()
        XCTAssertEqual(try parse(["@Q 0 3", "3 0 3 1", outputs]),
                       .commands([CommandOutput(status: 0, stdout: "one"), CommandOutput(status: 3, stdout: "two", stderr: "!")]))
        XCTAssertEqual(try parse(["@B " + Data([0, 1]).base64EncodedString()]), .blob([0, 1]))
        XCTAssertThrowsError(try parse(["@Q 0 3", "3 0 3 2", outputs]), "sizes that do not add up")
        XCTAssertThrowsError(try parse(["@Q 0", "3 0 3 1", outputs]), "more sizes than statuses")
    }
}
