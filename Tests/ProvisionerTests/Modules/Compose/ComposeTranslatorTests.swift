import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The compose → quadlet translator (`mode: quadlet`, `provision compose convert`) on a table of compose
/// files: every key issue 13 lists, the keys podlet refuses (service_healthy, GPU reservations), and the
/// refusals, each naming the file, line, service and key.
final class ComposeTranslatorTests: XCTestCase {
    /// Units by file name, from compose text in a scratch folder (so env_file and relative paths resolve).
    func convert(_ compose: String, files extra: [String: String] = [:], env: String? = nil, profiles: [String] = [],
                 file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for (name, text) in extra { _ = try scratch.write(name, text) }
        let path = try scratch.write("compose.yaml", compose)
        let request = ComposeConversionRequest(files: [(path, compose)], envFiles: env.map { [(scratch.path(".env"), $0)] } ?? [],
                                               projectName: nil, profiles: profiles, userScope: false)
        var units: [String: String] = [:]
        for output in try ComposeConvert.convert(request) { units[output.file] = output.text.replacingAll(scratch.root.path, with: "DIR") }
        return units
    }

    /// The refusal's text (file:line:col: path: why), failing when the file translates.
    func refusal(_ compose: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            let units = try convert(compose)
            XCTFail("translated, but should have been refused: \(units.keys.sorted())", file: file, line: line)
            return ""
        } catch let error as ComposeError {
            return "\(error)".components(separatedBy: "compose.yaml").last ?? ""
        }
    }

    func lines(_ text: String?) -> [String] { (text ?? "").split(separator: "\n").map(String.init) }

    func assertHas(_ text: String?, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        let have = lines(text)
        for entry in expected where !have.contains(entry) {
            XCTFail("missing \(entry) in:\n\(text ?? "(no such unit)")", file: file, line: line)
        }
    }

    func testEveryListedKeyHasItsQuadletKey() throws {
        let units = try convert("""
        name: shop
        services:
          db:
            image: localhost/db:1
            entrypoint: ["/bin/sh", "-c"]
            command: ["exec postgres -c 'max_connections=50'"]
            user: "999:999"
            working_dir: /var/lib/db
            environment:
              POSTGRES_DB: ${DB_NAME:-shop}
              GREETING: "50% off $$ today"
            env_file: [db.env]
            ulimits:
              nproc: 512
              nofile: {soft: 1024, hard: 2048}
            mem_limit: 512m
            cpus: 1.5
            restart: unless-stopped
            volumes:
              - data:/var/lib/db
              - ./conf:/etc/db:ro
              - legacy:/legacy
            networks: [back]
            ports:
              - "127.0.0.1:5432:5432"
              - {target: 53, published: "5353", host_ip: 127.0.0.1, protocol: udp}
            healthcheck:
              test: ["CMD", "pg_isready"]
              interval: 5s
              timeout: 3s
              retries: 4
              start_period: 10s
          api:
            image: localhost/api:1
            command: serve --port 8000
            networks: [back, front]
            depends_on:
              db: {condition: service_healthy}
              migrate: {condition: service_completed_successfully}
            restart: on-failure
          migrate:
            image: localhost/api:1
            command: migrate
            networks: [back]
            restart: "no"
          web:
            image: localhost/web:1
            networks: [front]
            depends_on: [api]
        volumes:
          data: {}
          legacy: {external: true, name: old_data}
        networks:
          back: {internal: true}
          front: {}
        """, files: ["db.env": "PGPASSWORD=\"secret value\"\n# a comment\nEMPTY=\n"], env: "DB_NAME=orders\n")

        XCTAssertEqual(units.keys.sorted(), ["shop-api.container", "shop-back.network", "shop-data.volume", "shop-db.container", "shop-db.env",
                                             "shop-front.network", "shop-migrate.container", "shop-web.container"],
                       "an external volume gets no unit, and no default network when no service uses it")
        assertHas(units["shop-db.container"], [
            "ContainerName=shop-db-1", "Image=localhost/db:1", "Label=com.docker.compose.project=shop", "Label=com.docker.compose.service=db",
            "Network=shop-back.network", "NetworkAlias=db",
            #"Entrypoint=["/bin/sh","-c"]"#, #"Exec="exec postgres -c 'max_connections=50'""#,
            "User=999", "Group=999", "WorkingDir=/var/lib/db",
            "Environment=POSTGRES_DB=orders", #"Environment="GREETING=50%% off $$ today""#,
            "EnvironmentFile=%E/containers/systemd/shop-db.env",
            "Ulimit=nproc=512", "Ulimit=nofile=1024:2048", "PodmanArgs=--memory=512m", "PodmanArgs=--cpus=1.5",
            "Volume=shop-data.volume:/var/lib/db", "Volume=DIR/conf:/etc/db:ro", "Volume=old_data:/legacy",
            "PublishPort=127.0.0.1:5432:5432", "PublishPort=127.0.0.1:5353:53/udp",
            #"HealthCmd=["pg_isready"]"#, "HealthInterval=5s", "HealthTimeout=3s", "HealthRetries=4", "HealthStartPeriod=10s",
            "Notify=healthy", "Restart=always", "WantedBy=multi-user.target",
        ])
        XCTAssertEqual(lines(units["shop-db.env"]).filter { !$0.hasPrefix("#") }, ["PGPASSWORD=secret value", "EMPTY="],
                       "quotes removed and comments dropped as docker compose reads it")
        assertHas(units["shop-api.container"], [
            "Requires=shop-db.service", "After=shop-db.service", "Requires=shop-migrate.service", "After=shop-migrate.service",
            "Network=shop-back.network", "Network=shop-front.network", "Exec=serve --port 8000", "Restart=on-failure",
        ])
        XCTAssertFalse(lines(units["shop-api.container"]).contains("Notify=healthy"), "nothing waits for api to be healthy")
        assertHas(units["shop-migrate.container"], ["Type=oneshot", "RemainAfterExit=yes", "Restart=no", "Exec=migrate"])
        XCTAssertFalse(lines(units["shop-migrate.container"]).contains("WantedBy=multi-user.target"), "restart: no does not come back at boot")
        assertHas(units["shop-web.container"], ["Requires=shop-api.service", "After=shop-api.service"])
        assertHas(units["shop-data.volume"], ["VolumeName=shop_data", "Label=com.docker.compose.volume=data"])
        assertHas(units["shop-back.network"], ["NetworkName=shop_back", "Internal=true"])
    }

    func testGPUReservationsAndResourceLimits() throws {
        let units = try convert("""
        services:
          all:
            image: localhost/m:1
            deploy:
              resources:
                limits: {cpus: "2", memory: 1g, pids: 100}
                reservations:
                  memory: 256m
                  devices: [{driver: nvidia, count: all, capabilities: [gpu]}]
          two:
            image: localhost/m:1
            deploy: {resources: {reservations: {devices: [{capabilities: [gpu], count: 2}]}}}
          picked:
            image: localhost/m:1
            deploy: {resources: {reservations: {devices: [{capabilities: [gpu], device_ids: ["1", "3"]}]}}}
          flag:
            image: localhost/m:1
            gpus: all
        """)
        // No name: the project is named after the scratch folder: the units by service name.
        let byService = Dictionary(uniqueKeysWithValues: units.compactMap { key, text in
            key.hasSuffix(".container") ? (String(key.dropLast(".container".count).split(separator: "-").last ?? ""), text) : nil
        })
        assertHas(byService["all"], ["AddDevice=nvidia.com/gpu=all", "PodmanArgs=--cpus=2", "PodmanArgs=--memory=1g", "PidsLimit=100",
                                     "PodmanArgs=--memory-reservation=256m"])
        assertHas(byService["two"], ["AddDevice=nvidia.com/gpu=0", "AddDevice=nvidia.com/gpu=1"])
        assertHas(byService["picked"], ["AddDevice=nvidia.com/gpu=1", "AddDevice=nvidia.com/gpu=3"])
        assertHas(byService["flag"], ["AddDevice=nvidia.com/gpu=all"])
    }

    func testTheChatAppExampleTranslates() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("examples/chat-app").path
        let read = { (name: String) -> (String, String) in
            (folder + "/" + name, (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "")
        }
        let outputs = try ComposeConvert.convert(ComposeConversionRequest(files: [read("docker-compose.yml"), read("docker-compose.gpu.yml")],
                                                                          envFiles: [read(".env")], projectName: nil, profiles: [], userScope: false))
        let units = Dictionary(uniqueKeysWithValues: outputs.map { ($0.file, $0.text) })
        XCTAssertEqual(units.keys.sorted(), ["chat-backend.container", "chat-backend.env", "chat-default.network", "chat-frontend.container",
                                             "chat-model-data.volume", "chat-model.container"])
        assertHas(units["chat-model.container"], ["AddDevice=nvidia.com/gpu=all", "Notify=healthy", "Volume=chat-model-data.volume:/models"])
        assertHas(units["chat-backend.container"], ["Requires=chat-model.service", "After=chat-model.service", "Notify=healthy",
                                                    "PublishPort=127.0.0.1:8000:8000", "Ulimit=nofile=1024:1024", "WorkingDir=/app"])
        assertHas(units["chat-frontend.container"], ["Requires=chat-backend.service", "After=chat-backend.service", "PublishPort=127.0.0.1:8080:8080"])
        XCTAssertEqual(outputs.first { $0.file == "chat-backend.env" }?.secret, true)
    }

    func testProfilesSelectServices() throws {
        let compose = """
        name: p
        services:
          app: {image: localhost/a:1}
          debug: {image: localhost/d:1, profiles: [debug]}
        """
        XCTAssertEqual(try convert(compose).keys.sorted(), ["p-app.container", "p-default.network"])
        XCTAssertEqual(try convert(compose, profiles: ["debug"]).keys.sorted(), ["p-app.container", "p-debug.container", "p-default.network"])
    }

    /// Each refusal names the line and column, the service and the key, and says what to do instead.
    func testRefusalsNameTheServiceAndTheKey() throws {
        let table: [(compose: String, expected: String)] = [
            ("services:\n  a:\n    image: x\n    ports: [\"66044:80\"]\n", ":4:13: services.a.ports[0]: "),
            ("services:\n  a:\n    image: x\n    ports: [\"8080:0\"]\n", ":4:13: services.a.ports[0]: "),
            ("services:\n  a:\n    build: .\n", ":3:12: services.a.build: is not translated"),
            ("services:\n  a:\n    image: x\n    secrets: [s]\n", ":4:14: services.a.secrets: is not translated"),
            ("services:\n  a:\n    image: x\n    imagee: y\n", ":4:13: services.a.imagee: is not a compose service key"),
            ("services:\n  a:\n    image: x\n    restart: on-failure:3\n", ":4:14: services.a.restart: 'on-failure:3'"),
            ("services:\n  a:\n    image: x\n    deploy: {resources: {reservations: {devices: [{capabilities: [tpu]}]}}}\n",
             "services.a.deploy.resources.reservations.devices[0].capabilities: only GPU reservations"),
            ("services:\n  a:\n    image: x\n    deploy: {replicas: 3}\n", "services.a.deploy.replicas: a unit runs one container"),
            ("services:\n  a:\n    image: x\n    environment: [UNSET]\n", "services.a.environment.UNSET: has no value"),
            ("services:\n  a:\n    image: x\n    healthcheck: {disable: true}\n  b:\n    image: y\n    depends_on: {a: {condition: service_healthy}}\n",
             "services.a.healthcheck: is disabled, yet a service waits for a to be healthy"),
            ("services:\n  a:\n    image: x\n    volumes: [\"undeclared:/data\"]\n", "services.a.volumes[0]"),
            ("services:\n  a:\n    image: x\n    depends_on: [missing]\n", "missing"),
            ("services:\n  a:\n    image: ${IMAGE:?set IMAGE first}\n", "set IMAGE first"),
        ]
        for (compose, expected) in table {
            let message = try refusal(compose)
            XCTAssertTrue(message.contains(expected), "for\n\(compose)\nexpected …\(expected)… in: \(message)")
        }
    }

    /// `provision compose convert`: prints the units (not the env files' values), writes them with -o (env
    /// files 0600), and exits 1 with the translator's message on a refusal.
    func testConvertCommand() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let compose = try scratch.write("app/compose.yaml", """
        name: cli
        services:
          web:
            image: localhost/web:1
            env_file: web.env
            ports: ["127.0.0.1:${PORT}:80"]
            restart: always
        """)
        _ = try scratch.write("app/web.env", "TOKEN=not-printed\n")
        _ = try scratch.write("app/.env", "PORT=9090\n")
        let printed = try scratch.provision(["compose", "convert", compose])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertTrue(printed.stdout.contains("# cli-web.container\n"), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("PublishPort=127.0.0.1:9090:80\n"), "the .env beside the file sets ${PORT}: \(printed.stdout)")
        XCTAssertFalse(printed.stdout.contains("not-printed"), "an env file's values are not printed")

        let written = try scratch.provision(["compose", "convert", compose, "-o", scratch.path("units")])
        XCTAssertEqual(written.status, 0, written.stderr)
        let envFile = scratch.path("units/cli-web.env")
        XCTAssertEqual(lines(scratch.read("units/cli-web.env")).last, "TOKEN=not-printed")
        let mode = (try FileManager.default.attributesOfItem(atPath: envFile)[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(scratch.read("units/cli-default.network")?.contains("NetworkName=cli_default"), true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path("units")).sorted(),
                       ["cli-default.network", "cli-web.container", "cli-web.env"], "no temporary file is left")

        let bad = try scratch.write("bad/compose.yaml", "services:\n  web:\n    image: x\n    ports: [\"127.0.0.1:66044:80\"]\n")
        let refused = try scratch.provision(["compose", "convert", bad, "-o", scratch.path("bad-units")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("compose.yaml:4:13: services.web.ports[0]"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("66044"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("bad-units")), "a refused project writes nothing")
    }
}
