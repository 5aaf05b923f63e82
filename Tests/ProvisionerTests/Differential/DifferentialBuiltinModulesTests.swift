import Foundation
import XCTest

/// The builtin modules of issue 9 §3, each in a small play that ansible-playbook (the reference) and
/// provision both run on the local connection: exit status, recap and every file written under
/// `{{ root }}` must agree. What a module returned is written into files, so the trees compare it.
final class DifferentialBuiltinModulesTests: XCTestCase {
    var server: HTTPTestServer!
    var fixtures: URL!

    override func setUpWithError() throws {
        _ = try TestSupport.ansiblePlaybook()
        server = try HTTPTestServer()
        fixtures = FileManager.default.temporaryDirectory.appendingPathComponent("provision-diff-fixtures-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: fixtures, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let fixtures { try? FileManager.default.removeItem(at: fixtures) }
        server = nil
    }

    func sh(_ script: String) throws {
        let result = try TestSupport.run("/bin/sh", ["-c", script], in: fixtures)
        XCTAssertEqual(result.status, 0, "\(script): \(result.stderr)")
    }

    func testStatFindSlurpAndGetentAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("stat of a file, a link and nothing", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/f.txt", content: "hello\\n", mode: "0640"}
                - file: {src: f.txt, dest: "{{ root }}/l", state: link}
                - stat: {path: "{{ root }}/f.txt", checksum_algorithm: sha256}
                  register: f
                - stat: {path: "{{ root }}/l"}
                  register: l
                - stat: {path: "{{ root }}/l", follow: true, get_mime: false}
                  register: lf
                - stat: {path: "{{ root }}/nothing"}
                  register: n
                - copy:
                    dest: "{{ root }}/stat.txt"
                    content: |-
                      {{ f.stat.exists }} {{ f.stat.isreg }} {{ f.stat.mode }} {{ f.stat.size }} {{ f.stat.checksum }} {{ f.stat.rusr }} {{ f.stat.xoth }}
                      {{ f.stat.pw_name }} {{ f.stat.mimetype }} {{ f.stat.charset }} {{ f.stat.readable }} {{ f.stat.executable }}
                      {{ l.stat.islnk }} {{ l.stat.lnk_target }} {{ l.stat.lnk_source | basename }} {{ 'checksum' in l.stat }}
                      {{ lf.stat.isreg }} {{ lf.stat.checksum }} {{ 'mimetype' in lf.stat }} {{ n.stat.exists }} {{ n.stat | length }}
            """),
            DifferentialPlay("find by pattern, age, size, content and type", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "{{ root }}/t/sub/deep", state: directory}
                - file: {path: "{{ root }}/t/.hid", state: directory}
                - copy: {dest: "{{ root }}/t/{{ item }}", content: "port = {{ item | length }}"}
                  loop: [a.log, b.txt, sub/c.log, .hid/d.log, sub/deep/e.log, .x.log]
                - file: {src: a.log, dest: "{{ root }}/t/l.log", state: link}
                - find: {paths: "{{ root }}/t", patterns: "*.log", recurse: true}
                  register: logs
                - find: {paths: "{{ root }}/t", patterns: ['^[a-c]', 'sub'], use_regex: true, excludes: 'b.*', file_type: any, depth: 2, recurse: true}
                  register: any
                - find: {paths: "{{ root }}/t", contains: "^port = 5", recurse: true, hidden: true}
                  register: content
                - find: {paths: ["{{ root }}/t", "{{ root }}/none"], file_type: link, size: "-1k", age: "-1h"}
                  register: links
                - find: {paths: "{{ root }}/t", recurse: true, get_checksum: true, patterns: "e.log"}
                  register: sums
                - file: {src: t/sub, dest: "{{ root }}/subl", state: link}
                - find: {paths: "{{ root }}/subl", recurse: true, file_type: any}
                  register: linked
                - copy:
                    dest: "{{ root }}/find.txt"
                    content: |-
                      {{ logs.files | map(attribute='path') | map('regex_replace', '^' ~ root ~ '/', '') | sort | join(',') }} {{ logs.matched }} {{ logs.examined }}
                      {{ any.files | map(attribute='path') | map('regex_replace', '^' ~ root ~ '/', '') | sort | join(',') }}
                      {{ content.files | map(attribute='path') | map('regex_replace', '^' ~ root ~ '/', '') | sort | join(',') }}
                      {{ links.files | map(attribute='path') | map('regex_replace', '^' ~ root ~ '/', '') | join(',') }} {{ links.msg }} {{ links.skipped_paths | length }}
                      {{ sums.files[0].checksum }} {{ sums.files[0].mode }} {{ sums.files[0].isreg }}
                      {{ linked.files | map(attribute='path') | map('regex_replace', '^' ~ root ~ '/', '') | sort | join(',') }} {{ linked.matched }}
            """),
            DifferentialPlay("slurp and getent", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/in.txt", content: "some\\nbytes\\n"}
                - slurp: {src: "{{ root }}/in.txt"}
                  register: s
                - getent: {database: passwd, key: root}
                - getent: {database: group, key: root, split: ":"}
                - getent: {database: passwd, key: no-such-user-here, fail_key: false}
                - getent: {database: passwd, key: no-such-user-here}
                  ignore_errors: true
                - copy:
                    dest: "{{ root }}/out.txt"
                    content: |-
                      {{ s.content | b64decode }}{{ s.encoding }} {{ s.source | basename }}
                      {{ getent_passwd.root[1] }} {{ getent_passwd.root[4] }} {{ ansible_facts.getent_group.root[1] }}
                      {{ 'no-such-user-here' in getent_passwd }}
            """),
            DifferentialPlay("slurp of a missing file fails", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - slurp: {src: "{{ root }}/missing"}
            """),
        ])
    }

    func testGetURLAndURIAgree() throws {
        let base = server.base
        try server.serve("app.txt", "version 1\n")
        try server.serve("SUMS", "\(sha256("version 1\n"))  app.txt\n")
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("get_url: download, again, checksums, a folder, force", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/app.txt", mode: "0600"}
                  register: first
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/app.txt", mode: "0600"}
                  register: again
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/", checksum: "sha256:\(base)/SUMS"}
                  register: folder
                - get_url: {url: "\(base)/named", dest: "{{ root }}/"}
                  register: named
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/pinned.txt", checksum: "sha256:\(sha256("version 1\n"))"}
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/pinned.txt", checksum: "sha256:\(sha256("version 1\n"))", mode: "0644"}
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/app.txt", force: true}
                  register: forced
                - get_url: {url: "\(base)/status/404", dest: "{{ root }}/nope"}
                  ignore_errors: true
                  register: missing
                - copy:
                    dest: "{{ root }}/results.txt"
                    content: |-
                      {{ first.changed }} {{ first.status_code }} {{ first.checksum_src }} {{ again.changed }} {{ again.status_code }}
                      {{ folder.changed }} {{ folder.dest | basename }} {{ named.dest | basename }} {{ forced.changed }}
                      {{ missing.status_code }} {{ missing.msg }}
            """),
            DifferentialPlay("get_url: a checksum that does not match", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - get_url: {url: "\(base)/app.txt", dest: "{{ root }}/bad.txt", checksum: "sha1:\(String(repeating: "0", count: 40))"}
            """),
            DifferentialPlay("uri: methods, bodies, status codes, content, dest", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - uri: {url: "\(base)/echo", method: POST, body: {name: app, n: [1, 2]}, body_format: json, headers: {X-Token: abc}}
                  register: posted
                - uri: {url: "\(base)/echo", method: PUT, body: {a: "b c"}, body_format: form-urlencoded, return_content: true}
                  register: form
                - uri: {url: "\(base)/status/404", status_code: [200, 404], return_content: true}
                  register: notfound
                - uri: {url: "\(base)/redirect"}
                  register: moved
                - uri: {url: "\(base)/auth", url_username: u, url_password: p, return_content: true}
                  register: auth
                - uri: {url: "\(base)/app.txt", dest: "{{ root }}/fetched.txt"}
                  register: written
                - uri: {url: "\(base)/echo", creates: "{{ root }}/fetched.txt"}
                  register: guarded
                - uri: {url: "\(base)/status/500"}
                  ignore_errors: true
                  register: failed
                - copy:
                    dest: "{{ root }}/uri.txt"
                    content: |-
                      {{ posted.status }} {{ posted.json.body }} {{ posted.json.content_type }} {{ posted.json.x_token }} {{ posted.cookies.sid }}
                      {{ form.json.body }} {{ form.json.method }} {{ form.content | length > 10 }}
                      {{ notfound.status }} {{ notfound.content }}{{ moved.redirected }} {{ moved.url | basename }} {{ auth.content }}
                      {{ written.changed }} {{ written.status }} {{ guarded.changed }} {{ failed.status }} {{ failed.msg }}
            """),
        ])
    }

    func testWaitForAgrees() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("wait_for: a port, a file's content, stopped, a timeout, seconds", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/log", content: "booting\\nready on port 8080\\n"}
                - wait_for: {port: \(server.port), timeout: 5}
                - wait_for: {path: "{{ root }}/log", search_regex: 'ready on port (?P<port>\\d+)'}
                  register: ready
                - wait_for: {port: 1, state: stopped, timeout: 5}
                - wait_for: {path: "{{ root }}/gone", state: absent}
                - wait_for: {path: "{{ root }}/never", timeout: 1}
                  ignore_errors: true
                  register: late
                - wait_for: {timeout: 1}
                - copy: {dest: "{{ root }}/groups", content: "{{ ready.match_groups }} {{ ready.match_groupdict.port }} {{ late.msg | basename }}"}
            """),
            DifferentialPlay("wait_for is skipped in check mode", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - wait_for: {path: "{{ root }}/never", timeout: 1}
            """, arguments: ["--check"]),
        ])
    }

    func testUnarchiveAgrees() throws {
        try TestSupport.require("zip", "the zip archive of the unarchive plays")
        try TestSupport.require("unzip", "unarchive unpacks zip archives with unzip")
        try sh("""
            mkdir -p src/pkg/bin && echo one > src/pkg/a.txt && echo two > src/pkg/bin/run.sh && chmod 755 src/pkg/bin/run.sh \
              && ln -s a.txt src/pkg/link && (cd src && tar czf ../pkg.tgz pkg && zip -qry ../pkg.zip pkg)
            """)
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("unarchive: a missing destination fails", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/nowhere", remote_src: true}
            """),
            DifferentialPlay("unarchive: from the host, twice, with options", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "{{ root }}/{{ item }}", state: directory}
                  loop: [d1, d2, d3]
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d1", list_files: true, remote_src: true}
                  register: first
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d1", remote_src: true}
                  register: again
                - unarchive: {src: "\(fixtures.path)/pkg.zip", dest: "{{ root }}/d2", remote_src: true}
                - unarchive: {src: "\(fixtures.path)/pkg.zip", dest: "{{ root }}/d2", remote_src: true}
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d3", remote_src: true, extra_opts: [--strip-components=1], mode: "0700"}
                - copy: {dest: "{{ root }}/d1/pkg/a.txt", content: "edited\\n"}
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d1", creates: "{{ root }}/d1/pkg", remote_src: true}
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d1", exclude: [pkg/bin/run.sh], remote_src: true}
                - copy: {dest: "{{ root }}/r.txt", content: "{{ first.files | sort | join(',') }} {{ first.handler }} {{ again.changed }}"}
            """),
            DifferentialPlay("unarchive: from the controller, and check mode", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "{{ root }}/d", state: directory}
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d"}
                - unarchive: {src: "\(fixtures.path)/pkg.tgz", dest: "{{ root }}/d"}
                - unarchive: {src: "\(fixtures.path)/pkg.zip", dest: "{{ root }}/d"}
                  check_mode: true
            """),
        ])
    }

    func testGitAgrees() throws {
        try TestSupport.require("git", "the git differential clones a repository made here")
        try sh("""
            git init -q -b main origin && cd origin && git config user.email t@e && git config user.name t \
              && echo one > a && git add a && git commit -qm one && git tag v1 && git tag -a v2 -m two \
              && echo two > a && git commit -qam two && git branch dev && echo three > a && git commit -qam three
            """)
        let repo = fixtures.appendingPathComponent("origin").path
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("git: clone, converged, tags, branches, a shallow clone", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - git: {repo: "\(repo)", dest: "{{ root }}/c"}
                  register: cloned
                - git: {repo: "\(repo)", dest: "{{ root }}/c"}
                  register: same
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: v1}
                  register: tag
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: v2}
                  register: annotated
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: dev}
                - git: {repo: "\(repo)", dest: "{{ root }}/s", version: dev, depth: 1}
                - git: {repo: "\(repo)", dest: "{{ root }}/c", update: false, version: main}
                - copy:
                    dest: "{{ root }}/git.txt"
                    content: "{{ cloned.changed }} {{ same.changed }} {{ same.before == same.after }} {{ tag.after == annotated.after }}"
            """),
            DifferentialPlay("git: local modifications stop an update", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: v1}
                - copy: {dest: "{{ root }}/c/a", content: "mine\\n"}
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: main}
                  ignore_errors: true
                - git: {repo: "\(repo)", dest: "{{ root }}/c", version: main, force: true}
            """),
        ].map { play in
            // .git folders differ in details (index timestamps, pack layout) without meaning anything.
            var play = play
            play.play += "\n    - shell: rm -rf {{ root }}/c/.git {{ root }}/s/.git\n"
            return play
        })
    }

    func testFileSELinuxArgumentsAndYumRepositoryAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("file: SELinux arguments on a host without SELinux", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "{{ root }}/www", state: directory, setype: httpd_sys_content_t, seuser: system_u, mode: "0750"}
                - file: {path: "{{ root }}/www", state: directory, setype: httpd_sys_content_t, selevel: s0}
            """),
            DifferentialPlay("yum_repository: sections, lists, booleans, removal", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - file: {path: "{{ root }}/repos", state: directory}
                - copy: {dest: "{{ root }}/repos/epel.repo", content: "# mine\\n[other]\\nname=Other\\nbaseurl=http://o/\\n"}
                - yum_repository:
                    name: epel
                    description: EPEL
                    baseurl: [https://mirror.example.com/epel/$releasever/, http://backup.example.com/epel/]
                    gpgcheck: true
                    gpgkey: https://mirror.example.com/RPM-GPG-KEY
                    exclude: [kernel, foo*]
                    enabled: false
                    priority: 10
                    reposdir: "{{ root }}/repos"
                - yum_repository: {name: epel, description: EPEL, baseurl: [https://mirror.example.com/epel/$releasever/, http://backup.example.com/epel/],
                                   gpgcheck: true, gpgkey: https://mirror.example.com/RPM-GPG-KEY, exclude: [kernel, foo*], enabled: false,
                                   priority: 10, reposdir: "{{ root }}/repos"}
                - yum_repository: {name: other, file: epel, state: absent, reposdir: "{{ root }}/repos"}
                - yum_repository: {name: solo, description: Solo, metalink: "https://m/?repo=x", reposdir: "{{ root }}/repos", mode: "0600",
                                   module_hotfixes: true, sslverify: false}
            """),
            DifferentialPlay("package_facts on this machine", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - package_facts: {}
                - copy: {dest: "{{ root }}/p", content: "{{ 'dpkg' in ansible_facts.packages }} {{ packages['dpkg'][0].source }} {{ packages['dpkg'][0].arch }}"}
            """),
        ])
    }

    func testPipAgrees() throws {
        try TestSupport.require("python3", "pip needs python3")
        let wheels = fixtures.appendingPathComponent("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
        // Two versions of a tiny package, built here: pip then needs no network.
        try sh("""
            python3 - <<'EOF'
            import base64, hashlib, zipfile
            for version in ("1.0", "2.0"):
                info = "provtest-%s.dist-info" % version
                files = {"provtest/__init__.py": "VERSION = %r\\n" % version,
                         info + "/METADATA": "Metadata-Version: 2.1\\nName: provtest\\nVersion: %s\\n" % version,
                         info + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
                with zipfile.ZipFile("wheels/provtest-%s-py3-none-any.whl" % version, "w") as z:
                    record = []
                    for path, text in files.items():
                        z.writestr(path, text)
                        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
                        record.append("%s,sha256=%s,%d" % (path, digest, len(text)))
                    z.writestr(info + "/RECORD", "\\n".join(record + [info + "/RECORD,,"]) + "\\n")
            EOF
            """)
        let offline = "--no-index --find-links \(wheels.path)"
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("pip: a virtualenv, versions, latest, absent", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - pip: {name: "provtest==1.0", virtualenv: "{{ root }}/venv", virtualenv_command: "python3 -m venv", extra_args: "\(offline)"}
                - pip: {name: provtest, virtualenv: "{{ root }}/venv", extra_args: "\(offline)"}
                - pip: {name: "provtest>=2", virtualenv: "{{ root }}/venv", extra_args: "\(offline)"}
                - pip: {name: provtest, state: latest, virtualenv: "{{ root }}/venv", extra_args: "\(offline)"}
                - pip: {name: provtest, state: absent, virtualenv: "{{ root }}/venv"}
                - pip: {name: provtest, state: absent, virtualenv: "{{ root }}/venv"}
                - shell: rm -rf {{ root }}/venv
            """),
        ])
    }

    func sha256(_ text: String) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("provision-sum-\(UUID().uuidString)")
        try? Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return (try? TestSupport.run("/usr/bin/sha256sum", [file.path]))?.stdout.split(separator: " ").first.map(String.init) ?? ""
    }
}
