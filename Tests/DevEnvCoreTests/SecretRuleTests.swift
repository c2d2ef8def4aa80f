import Testing

@testable import DevEnvCore

@Suite struct SecretRuleTests {
    @Test(arguments: [
        "password", "PGPASSWORD", "POSTGRES_PASSWORD", "db_passwd", "DJANGO_SECRET_KEY", "secret_key", "KEY",
        "REDISCLI_AUTH", "sso_client_secret", "api-token", "oidc.client.secret", "GITHUB_TOKEN",
    ])
    func secretNames(name: String) {
        #expect(SecretRule.isSecretName(name))
    }

    @Test(arguments: [
        "KEYBOARD", "AUTHOR", "TOKENIZER_PATH", "SECRETARY", "DJANGO_DATABASE_HOST", "monkey", "KEY_COUNT", "",
    ])
    func ordinaryNames(name: String) {
        #expect(!SecretRule.isSecretName(name))
    }

    @Test func knownSecretsAreMaskedInsideValuesAndURLsLoseTheirPassword() {
        let known = ["s3cr3t-value-long", "s3cr3t"]
        #expect(SecretRule.masked(name: "BROKER", value: "redis://:pw@h:6379/0", known: []) == "redis://:***@h:6379/0")
        #expect(SecretRule.masked(name: "COPY", value: "x s3cr3t-value-long y", known: known) == "x *** y")
        #expect(SecretRule.masked(name: "PGPASSWORD", value: "anything", known: []) == "***")
        #expect(SecretRule.masked(name: "PGPASSWORD", value: "", known: []) == "")
        #expect(SecretRule.masked(name: "HOST", value: "db", known: known) == "db")
    }
}
