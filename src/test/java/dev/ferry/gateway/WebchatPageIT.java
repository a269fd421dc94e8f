package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;

/** The web chat page at {@code /}: served from the jar, with a strict CSP, only while its channel is enabled. */
class WebchatPageIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private void start(String more) throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state")
                + "' }" + more + " }", null));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(gateway.url() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageItsFilesAndItsLibrariesAreServedWithAPolicyThatAllowsNoInlineScript() throws Exception {
        start("");
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("<html").contains("/webjars/marked/15.0.7/marked.min.js")
                .contains("/webjars/dompurify/3.2.4/dist/purify.min.js").contains("/webchat/app.js");
        String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertThat(policy).contains("script-src 'self'").doesNotContain("unsafe-inline").contains("object-src 'none'");
        assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

        for (String file : new String[] {"/webchat/app.js", "/webchat/app.css", "/webjars/marked/15.0.7/marked.min.js",
                "/webjars/dompurify/3.2.4/dist/purify.min.js"}) {
            HttpResponse<String> served = get(file);
            assertThat(served.statusCode()).as(file).isEqualTo(200);
            assertThat(served.body()).as(file).isNotBlank();
        }
        assertThat(get("/webjars/marked/15.0.7/marked.min.js").headers().firstValue("Content-Type").orElse(""))
                .startsWith("text/javascript");
    }

    @Test
    void nothingElseOnTheClassPathIsReachable() throws Exception {
        start("");
        for (String path : new String[] {"/webchat/../logback.xml", "/webchat/%2e%2e/logback.xml", "/webchat/index.html.bak",
                "/webjars/marked/15.0.7/package.json", "/webjars/../META-INF/MANIFEST.MF", "/logback.xml"}) {
            HttpResponse<String> refused = get(path);
            assertThat(refused.statusCode()).as(path).isIn(400, 404);
            assertThat(refused.headers().firstValue("Content-Type").orElse("")).as(path).startsWith("application/json");
        }
    }

    @Test
    void aDisabledWebChatServesNoPageButTheRestOfTheGatewayServesOn() throws Exception {
        start(", channels: { webchat: { enabled: false } }");
        assertThat(get("/").statusCode()).isEqualTo(404);
        assertThat(get("/webjars/marked/15.0.7/marked.min.js").statusCode()).isEqualTo(404);
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }
}
