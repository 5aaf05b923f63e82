import XCTest
@testable import Provisioner

/// How the loader reads roles, includes and loops: what the engine and `validate` are given.
final class EngineRoleLoaderTests: XCTestCase {
    var scratch: Scratch!
    let loader = PlaybookLoader(resolveModule: { ["debug", "copy", "set_fact"].contains($0) ? $0 : nil }, moduleNames: ["debug", "copy"])

    override func setUpWithError() throws { scratch = try Scratch() }
    override func tearDown() { scratch.remove() }

    func load(_ play: String) throws -> Play {
        try scratch.write("play.yml", play)
        let playbook = try loader.loadPlaybook(scratch.path("play.yml"))
        var play = try XCTUnwrap(playbook.plays.first)
        // Leave out what the loader adds itself (the handler flush after each section).
        play.tasks = play.tasks.filter { if case .task(let t) = $0 { return !t.implicit }; return true }
        return play
    }

    func blocks(_ items: [TaskItem]) -> [Block] {
        items.compactMap { if case .block(let b) = $0 { return b }; return nil }
    }

    func testRoleBlocksCarryTheirKeyDependenciesAndHandlers() throws {
        try scratch.write("roles/web/tasks/main.yml", "- debug: {msg: web}\n")
        try scratch.write("roles/web/handlers/main.yml", "- name: restart\n  debug: {msg: r}\n")
        try scratch.write("roles/web/defaults/main.yml", "port: 80\n")
        try scratch.write("roles/web/meta/main.yml", "dependencies:\n  - {role: base, who: web}\n")
        try scratch.write("roles/base/tasks/main.yml", "- debug: {msg: base}\n")
        try scratch.write("roles/dup/tasks/main.yml", "- debug: {msg: dup}\n")
        try scratch.write("roles/dup/meta/main.yml", "allow_duplicates: true\n")
        let play = try load("- hosts: all\n  roles: [web, web, dup]\n  tasks:\n    - import_role: {name: web}\n")
        let roles = blocks(play.tasks)
        XCTAssertEqual(roles.map { $0.common.role?.name }, ["base", "web", "base", "web", "dup", "base", "web"])
        XCTAssertEqual(roles[0].common.vars["who"], "web", "a dependency's parameters are its variables")
        XCTAssertEqual(roles[1].role?.key, roles[3].role?.key, "the same role with the same parameters runs once")
        XCTAssertNil(roles[4].role?.key, "allow_duplicates: no key")
        XCTAssertNil(roles[6].role?.key, "import_role runs each time")
        XCTAssertNotNil(roles[5].role?.key, "its dependency still runs once")
        XCTAssertEqual(play.handlers.map(\.name), ["restart"], "a role's handlers join the play once")
        XCTAssertEqual(play.roleDefaults["port"], 80)
    }

    func testStaticIncludesArePreloadedForValidate() throws {
        try scratch.write("roles/r/tasks/main.yml", "- debug: {msg: r}\n")
        try scratch.write("t.yml", "- debug: {msg: t}\n")
        try scratch.write("again.yml", "- include_tasks: again.yml\n  when: go\n")
        let play = try load("""
        - hosts: all
          tasks:
            - include_role: {name: r}
            - include_tasks: t.yml
            - include_tasks: "{{ name }}.yml"
            - include_role: {name: missing}
            - include_tasks: again.yml
        """)
        let includes = play.tasks.compactMap { if case .include(let i) = $0 { return i }; return nil }
        XCTAssertEqual(includes.count, 5)
        guard case .loaded(let roleItems)? = includes[0].preloaded, case .loaded(let fileItems)? = includes[1].preloaded else {
            return XCTFail("static includes are loaded: \(includes.map { String(describing: $0.preloaded) })")
        }
        XCTAssertEqual(blocks(roleItems).first?.common.role?.name, "r")
        XCTAssertEqual(fileItems.count, 1)
        XCTAssertNil(includes[2].preloaded, "a templated name is loaded when reached")
        guard case .failed(let error)? = includes[3].preloaded else { return XCTFail("a missing role is kept as its error") }
        XCTAssertTrue(error.message.contains("role 'missing' not found"), error.message)
        guard case .loaded(let inner)? = includes[4].preloaded, case .include(let nested) = inner[0], case .recursive? = nested.preloaded else {
            return XCTFail("conditional self-include: preloaded once, then marked recursive")
        }
    }

    func testIncludeKeywordsAndApply() throws {
        try scratch.write("t.yml", "- debug: {msg: t}\n")
        let play = try load("""
        - hosts: all
          tasks:
            - block:
                - include_tasks: {file: t.yml, apply: {tags: [x], become: true}}
                  when: outer
                  tags: [own]
                  vars: {v: 1}
              become_user: app
        """)
        guard case .block(let block) = play.tasks[0], case .include(let include) = block.tasks[0] else { return XCTFail("an include in a block") }
        XCTAssertEqual(include.tasksCommon.tags, ["x"], "the include's own tags are not inherited; apply's are")
        XCTAssertEqual(include.tasksCommon.when, [], "its when decides the include only")
        XCTAssertEqual(include.tasksCommon.becomeUser, "app", "the block's keywords reach the included tasks")
        XCTAssertEqual(include.tasksCommon.become, true)
        XCTAssertEqual(include.tasksCommon.vars["v"], 1)
        XCTAssertThrowsError(try load("- hosts: all\n  tasks:\n    - include_role: {name: r}\n      become: true\n")) {
            XCTAssertTrue("\($0)".contains("'become' is not a keyword of includes"), "\($0)")
        }
        XCTAssertThrowsError(try load("- hosts: all\n  tasks:\n    - import_role: {name: r, tasks_from: \"{{ x }}\"}\n")) {
            XCTAssertTrue("\($0)".contains("import_role is static"), "\($0)")
        }
    }

    func testLoopsVarsFilesAndAsync() throws {
        let play = try load("""
        - hosts: all
          vars_files: [a.yml, [b.yml, c.yml]]
          tasks:
            - debug: {msg: "{{ item }}"}
              with_nested: [[1], [2]]
            - debug: {msg: "{{ item }}"}
              with_items: word
            - copy: {dest: /x, content: y}
              async: 10
              poll: 0
        """)
        XCTAssertEqual(play.varsFiles, [["a.yml"], ["b.yml", "c.yml"]])
        let tasks = play.tasks.compactMap { if case .task(let t) = $0 { return t }; return nil }
        XCTAssertEqual(tasks.map(\.loopWith), ["nested", "items", nil])
        XCTAssertEqual(tasks[1].loop, "word")
        XCTAssertEqual(tasks[2].asynchronous?.seconds, 10)
        XCTAssertEqual(tasks[2].asynchronous?.poll, 0)
        XCTAssertThrowsError(try load("- hosts: all\n  tasks:\n    - debug: {msg: x}\n      with_lines: cat x\n")) {
            XCTAssertTrue("\($0)".contains("'with_lines' loops over the 'lines' lookup, which provision does not implement yet"), "\($0)")
        }
        XCTAssertThrowsError(try load("- hosts: all\n  tasks:\n    - debug: {msg: x}\n      poll: 5\n")) {
            XCTAssertTrue("\($0)".contains("'poll' goes with 'async'"), "\($0)")
        }
    }
}
