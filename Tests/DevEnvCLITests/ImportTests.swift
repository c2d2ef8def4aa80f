import Foundation
import TestSupport
import Testing

/// `devenv import openshift` on manifests written in the style of the DIALS deployment guide.
@Suite struct ImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "fixtures/openshift"
    ).path

    @Test func importsTheDialsManifestsWithoutLeakingSecrets() throws {
        let directory = NSTemporaryDirectory() + "devenv-import-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/etl", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runProcess(
            devenvExecutable(),
            ["import", "openshift", Self.fixtures, "-p", "dials", "-o", directory + "/compose.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("warning: ") && result.stderr.contains("PodDisruptionBudget backend is not imported")
        )
        let stack = try String(contentsOfFile: directory + "/compose.yaml", encoding: .utf8)

        // Secrets: generated values, never the manifests' values (plain or base64).
        for planted in ["planted-django-secret-key-value", "cGxhbnRlZC1kYi1wYXNzd29yZA==", "planted-db-password"] {
            #expect(!stack.contains(planted))
        }
        #expect(stack.contains("DJANGO_SECRET_KEY: '{{ backend.dials-secrets-django_secret_key.secret }}'"))
        // The DBoD database outside the cluster becomes a local PostgreSQL with its role and database.
        #expect(stack.contains("DJANGO_DATABASE_HOST: db"))
        #expect(stack.contains("DJANGO_DATABASE_PASSWORD: '{{ db.roles.dials.password }}'"))
        #expect(stack.contains("# db: stands in for dbod-dials.cern.ch"))
        // Images: the ImageStream's source, or a build placeholder; the Route publishes 8000.
        #expect(stack.contains("image: registry.cern.ch/cms-dqmdc/dials-backend:latest"))
        #expect(stack.contains("build: ./etl"))
        #expect(stack.contains("- 127.0.0.1:8000:8000"))
        #expect(stack.contains("while true; do python3 manage.py load_dqmio; sleep 900; done"))
        #expect(stack.contains("redis-etl-broker:/data"))

        // With the placeholder's checkout in place, the result is a valid stack file.
        try "FROM debian:bookworm-slim\n".write(
            toFile: directory + "/etl/Dockerfile", atomically: true, encoding: .utf8)
        let config = try runProcess(devenvExecutable(), ["config", "--json", "-f", directory + "/compose.yaml"])
        #expect(config.status == 0, "\(config.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(config.stdout.utf8)) as? [String: Any])
        let services = (object["services"] as? [String: Any] ?? [:]).keys.sorted()
        #expect(services == ["backend", "csc-bulk", "db", "dqmio-loader", "redis-etl"])
    }

    @Test func templatesTakeTheirParameters() throws {
        let directory = NSTemporaryDirectory() + "devenv-import-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let template = """
            apiVersion: template.openshift.io/v1
            kind: Template
            metadata: { name: certhelper }
            parameters:
              - { name: IMAGE, value: "registry.cern.ch/cmsweb/certhelper:1.2" }
              - { name: SITE_ID, value: "3" }
            objects:
              - apiVersion: apps/v1
                kind: Deployment
                metadata: { name: certhelper }
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          image: ${IMAGE}
                          env: [{ name: SITE_ID, value: "${SITE_ID}" }]
            """
        try template.write(toFile: directory + "/template.yaml", atomically: true, encoding: .utf8)
        let result = try runProcess(devenvExecutable(), ["import", "openshift", directory + "/template.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("image: registry.cern.ch/cmsweb/certhelper:1.2"))
        #expect(result.stdout.contains("SITE_ID: '3'"))
    }
}
