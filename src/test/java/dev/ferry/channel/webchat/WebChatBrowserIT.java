package dev.ferry.channel.webchat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;

/**
 * The web chat page at {@code /} in a real headless Chromium against the real gateway jar, started as
 * a process on a free port: replies stream in, queued marks clear in turn order, the status panel
 * follows status events, a gateway restart under the open page loses and doubles nothing, model and
 * user text never become markup, and a gateway token is asked for and kept in the tab.
 */
class WebChatBrowserIT {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final Path SCREENSHOTS = Path.of("target", "webchat-screenshots");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path config;
    private GatewayProcess gateway;
    private GatewayClient rpc;
    private String base;
    private HeadlessChromium chromium;
    private WebDriver driver;

    @BeforeAll
    static void browserIsInstalled() {
        HeadlessChromium.requireInstalled();
    }

    @AfterEach
    void stop(TestInfo test) throws Exception {
        String name = test.getTestMethod().map(m -> m.getName()).orElse("unknown");
        List<String> console = List.of();
        try {
            if (chromium != null) {
                chromium.screenshot(SCREENSHOTS.resolve(name + ".png"));
                console = chromium.console();
                HeadlessChromium.write(SCREENSHOTS.resolve(name + ".console.log"), console);
            }
            if (gateway != null) {
                HeadlessChromium.write(SCREENSHOTS.resolve(name + ".gateway.log"), List.of(gateway.output()));
            }
        } finally {
            if (chromium != null) {
                chromium.close();
            }
            if (gateway != null) {
                gateway.close();
            }
        }
        assertThat(console).as("the page keeps to its Content-Security-Policy").noneMatch(
                line -> line.contains("Content Security Policy") || line.contains("Content-Security-Policy"));
    }

    // ---- the behaviours ----

    @Test
    void aMessageSentFromThePageGetsItsEchoReply() throws Exception {
        startGateway("");
        openPage();

        send("hello from the browser");

        WebElement reply = awaitReply("echo: hello from the browser");
        assertThat(reply.getDomAttribute("data-reply-id")).isNotBlank();
        WebElement mine = driver.findElement(By.cssSelector("#messages .msg.user"));
        assertThat(mine.getDomAttribute("data-message-id")).isNotBlank();
        assertThat(mine.findElement(By.cssSelector(".body")).getText()).isEqualTo("hello from the browser");
        assertThat(driver.findElements(By.cssSelector("#messages .msg.agent"))).hasSize(1);

        // Shift+Enter is a new line in the message; Enter alone sends it.
        WebElement composer = driver.findElement(By.id("composer"));
        composer.sendKeys("line one", Keys.chord(Keys.SHIFT, Keys.ENTER), "line two");
        assertThat(driver.findElements(By.cssSelector("#messages .msg.user"))).hasSize(1);
        composer.sendKeys(Keys.ENTER);
        awaitReply("echo: line one\nline two");
        assertThat(userBubble("line one\nline two")).isNotNull();
    }

    @Test
    void switchingTheConversationLoadsItsHistoryAndAReloadShowsThePastExchanges() throws Exception {
        startGateway("");
        openPage();
        String first = conversationId();
        assertThat(first).startsWith("web-");
        send("in the first conversation");
        awaitReply("echo: in the first conversation");

        openConversation("second-" + Long.toHexString(System.nanoTime()));
        waitFor("the view is the second conversation's", d -> d.findElements(By.cssSelector("#messages .msg")).isEmpty());
        send("in the second conversation");
        awaitReply("echo: in the second conversation");

        openConversation(first);
        awaitReply("echo: in the first conversation");
        assertThat(userTexts()).containsExactly("in the first conversation");

        driver.navigate().refresh();
        waitFor("the page connects again", d -> connState().equals("connected"));
        assertThat(conversationId()).as("the conversation id is kept in localStorage").isEqualTo(first);
        awaitReply("echo: in the first conversation");
        assertThat(userTexts()).containsExactly("in the first conversation");
        assertThat(agentTexts()).containsExactly("echo: in the first conversation");
    }

    @Test
    void aMessageTheFullQueueRefusesIsMarkedDroppedWithItsReason() throws Exception {
        startGateway(", agent: { echo: { delayMs: 1500 } },"
                + " messages: { queue: { mode: 'followup', debounceMs: 50, cap: 1, drop: 'new' } }");
        openPage();

        send("runs");
        send("waits");
        send("refused");

        WebElement refused = userBubble("refused");
        WebElement dropped = waitFor("the refused message is marked dropped",
                d -> refused.findElements(By.cssSelector(".dropped")).stream().findFirst().orElse(null));
        assertThat(dropped.getText()).startsWith("dropped: ").hasSizeGreaterThan("dropped: ".length());
        assertThat(refused.findElements(By.cssSelector(".queued"))).isEmpty();
        awaitReply("echo: waits");
        assertThat(agentTexts()).contains("echo: runs", "echo: waits").doesNotContain("echo: refused");
    }

    @Test
    void messagesWaitingBehindABusyTurnShowQueuedMarksThatClearInTurnOrder() throws Exception {
        startGateway(", agent: { echo: { delayMs: 1500 } }, messages: { queue: { mode: 'followup', debounceMs: 50 } }");
        openPage();

        send("first");
        send("second");
        send("third");

        WebElement second = userBubble("second");
        WebElement third = userBubble("third");
        waitFor("second and third are marked queued", d -> hasQueuedMark(second) && hasQueuedMark(third));
        assertThat(second.findElement(By.cssSelector(".queued")).getText()).isEqualTo("queued");

        // The second's turn starts while the third still waits behind it.
        waitFor("the second's mark clears", d -> !hasQueuedMark(second));
        assertThat(hasQueuedMark(third)).as("the third is still queued when the second's turn starts").isTrue();
        waitFor("the third's mark clears", d -> !hasQueuedMark(third));

        awaitReply("echo: third");
        assertThat(agentTexts()).containsExactly("echo: first", "echo: second", "echo: third");
        assertThat(driver.findElements(By.cssSelector("#messages .queued"))).isEmpty();
    }

    @Test
    void theStatusPanelFollowsStatusEventsWithoutReloading() throws Exception {
        startGateway("");
        openPage();
        waitFor("the status panel is filled from the status RPC", d -> field("generation").equals("1"));
        assertThat(field("state")).isEqualTo("running");
        assertThat(field("sessions")).isEqualTo("0");
        js("window.__sameDocument = true;");

        send("count me");

        waitFor("sessions becomes 1 from a status event", d -> field("sessions").equals("1"));
        awaitReply("echo: count me");
        assertThat(js("return window.__sameDocument === true;")).as("the page was not reloaded").isEqualTo(true);
        assertThat(rpc.rpc("gateway.reload").body().path("ok").asBoolean()).isTrue();
        waitFor("the generation follows the reload event", d -> field("generation").equals("2"));
        waitFor("the panel settles on what the status RPC says", d -> {
            JsonNode now = status();
            return field("sessions").equals(now.get("sessions").asText())
                    && field("runningTurns").equals(now.get("runningTurns").asText())
                    && field("journalPending").equals(now.at("/journal/pending").asText())
                    && field("outboxPending").equals(now.at("/outbox/pending").asText());
        });
    }

    @Test
    void aGatewayRestartUnderTheOpenPageLeavesEveryReplyShownExactlyOnce() throws Exception {
        startGateway(", agent: { echo: { delayMs: 400 } }, messages: { queue: { mode: 'followup', debounceMs: 50 } }");
        openPage();
        send("before the restart");
        awaitReply("echo: before the restart");

        // A turn still running when SIGTERM arrives: the graceful stop lets it finish first.
        send("during the stop");
        waitFor("the message is acknowledged", d -> !userBubble("during the stop").getDomAttribute("class").contains("unsent"));
        js("window.__states = []; var el = document.getElementById('conn-state');"
                + "new MutationObserver(function () { window.__states.push(el.dataset.state); })"
                + ".observe(el, {attributes: true, attributeFilter: ['data-state']});");
        gateway.process().destroy();
        assertThat(gateway.process().waitFor(30, TimeUnit.SECONDS)).as("the gateway stops on SIGTERM").isTrue();
        waitFor("the page shows it is reconnecting", d -> connState().equals("reconnecting"));
        assertThat(driver.findElement(By.id("conn-state")).getText()).contains("reconnecting");

        // Typed while the gateway is down: sent once it is back.
        send("while it was down");
        gateway = GatewayProcess.start("gateway", "--config", config.toString());
        gateway.awaitReady(PATIENCE);
        waitFor("the page reconnects", d -> connState().equals("connected"));
        awaitReply("echo: while it was down");
        send("after the restart");
        awaitReply("echo: after the restart");
        awaitReply("echo: during the stop");
        @SuppressWarnings("unchecked")
        List<String> states = (List<String>) js("return window.__states;");
        assertThat(states).as("the shutdown event, then backoff, then the connection again")
                .containsSubsequence("stopping", "reconnecting", "connected");

        List<String> shownIds = agentReplyIds();
        assertThat(shownIds).as("no reply is shown twice").doesNotHaveDuplicates();
        List<String> historyIds = new ArrayList<>();
        List<String> historyReplies = new ArrayList<>();
        for (JsonNode exchange : history()) {
            historyIds.add(exchange.get("replyId").asText());
            historyReplies.add(exchange.get("reply").asText());
        }
        assertThat(shownIds).as("every reply in the history is shown, once").containsExactlyInAnyOrderElementsOf(historyIds);
        assertThat(historyReplies).containsExactlyInAnyOrder("echo: before the restart", "echo: during the stop",
                "echo: while it was down", "echo: after the restart");
        assertThat(userTexts()).as("each message is shown once").containsExactlyInAnyOrder("before the restart",
                "during the stop", "while it was down", "after the restart");
    }

    @Test
    void userAndModelTextNeverBecomeMarkupAndOnlyWebLinksAreClickable() throws Exception {
        startGateway("");
        openPage();
        js("window.__dialogs = [];"
                + "['alert', 'confirm', 'prompt'].forEach(function (n) {"
                + "  window[n] = function (m) { window.__dialogs.push(n + ':' + m); }; });");

        String img = "<img src=x onerror=alert(1)>";
        send(img);
        awaitReply("echo: " + img);
        assertThat(userBubble(img).findElement(By.cssSelector(".body")).getText()).isEqualTo(img);

        send("[click](javascript:alert(1)) and [ok](https://example.com)");
        WebElement reply = awaitReply("echo: click and ok");
        assertThat(driver.findElements(By.cssSelector("#messages img"))).as("no element from the text").isEmpty();
        assertThat(driver.findElements(By.cssSelector("#messages [onerror]"))).isEmpty();

        Object unsafe = js("return Array.from(document.querySelectorAll('a')).filter(function (a) {"
                + " var h = a.getAttribute('href'); return h !== null && !/^https?:\\/\\//i.test(h.trim()); }).length;");
        assertThat(unsafe).as("links whose href is not http(s)").isEqualTo(0L);
        WebElement click = reply.findElement(By.xpath(".//a[normalize-space()='click']"));
        assertThat(click.getDomAttribute("href")).as("the javascript: link is inert").isNull();
        WebElement ok = reply.findElement(By.xpath(".//a[normalize-space()='ok']"));
        assertThat(ok.getDomAttribute("href")).isEqualTo("https://example.com");
        assertThat(ok.getDomAttribute("target")).isEqualTo("_blank");
        assertThat(ok.getDomAttribute("rel")).isEqualTo("noopener noreferrer");

        click.click();
        assertThat(js("return window.__dialogs.length;")).as("no dialog was opened").isEqualTo(0L);
        assertThatThrownBy(() -> driver.switchTo().alert()).isInstanceOf(NoAlertPresentException.class);
    }

    @Test
    void withAGatewayTokenThePageAsksForItAndThenConnects() throws Exception {
        String token = "tab-only-" + Long.toHexString(System.nanoTime());
        startGateway(", auth: { token: '" + token + "' }", token, "");
        driver.get(base + "/");

        waitFor("the token form is shown", ExpectedConditions.visibilityOfElementLocated(By.id("token-form")));
        assertThat(connState()).isEqualTo("needs-token");
        WebElement input = driver.findElement(By.id("token-input"));
        assertThat(input.getDomAttribute("type")).isEqualTo("password");
        input.sendKeys("not-the-token", Keys.ENTER);
        waitFor("a wrong token is refused and asked for again", d -> d.findElement(By.id("token-form")).isDisplayed()
                && d.findElement(By.id("token-message")).getText().contains("refused"));
        assertThat(connState()).isEqualTo("needs-token");
        driver.findElement(By.id("token-input")).sendKeys(token, Keys.ENTER);

        waitFor("the page connects with the token", d -> connState().equals("connected"));
        assertThat(driver.findElement(By.id("token-form")).isDisplayed()).isFalse();
        send("let me in");
        awaitReply("echo: let me in");

        assertThat(driver.getCurrentUrl()).doesNotContain(token);
        assertThat(js("return Object.keys(localStorage).map(function (k) { return localStorage.getItem(k); }).join('\\n');"))
                .asString().doesNotContain(token);
        assertThat(js("return Object.keys(sessionStorage).map(function (k) { return sessionStorage.getItem(k); }).join('\\n');"))
                .asString().contains(token);
    }

    @Test
    void onAPhoneWidthScreenTheStatusPanelSitsBelowTheConversation() throws Exception {
        startGateway("");
        driver.manage().window().setSize(new Dimension(390, 844));
        openPage();
        send("small screen");
        awaitReply("echo: small screen");
        @SuppressWarnings("unchecked")
        Map<String, Object> layout = (Map<String, Object>) js("var c = document.querySelector('.conversation').getBoundingClientRect();"
                + "var s = document.getElementById('status-panel').getBoundingClientRect();"
                + "return {conversationBottom: c.bottom, statusTop: s.top, pageWidth: document.documentElement.scrollWidth,"
                + " viewport: window.innerWidth};");
        assertThat(((Number) layout.get("statusTop")).doubleValue())
                .isGreaterThanOrEqualTo(((Number) layout.get("conversationBottom")).doubleValue());
        assertThat(((Number) layout.get("pageWidth")).longValue()).as("no sideways scrolling")
                .isLessThanOrEqualTo(((Number) layout.get("viewport")).longValue());
    }

    // ---- the gateway ----

    /** Starts the jar on a free port with the given config additions and a fresh browser. */
    private void startGateway(String more) throws Exception {
        startGateway("", null, more);
    }

    private void startGateway(String gatewayKeys, String token, String more) throws Exception {
        config = dir.resolve("ferry.json5");
        Files.writeString(config, "{ gateway: { port: " + GatewayProcess.freePort() + gatewayKeys + " }, state: { dir: '"
                + dir.resolve("state") + "' }" + more + " }");
        gateway = GatewayProcess.start("gateway", "--config", config.toString());
        base = gateway.awaitReady(PATIENCE).toString().replaceAll("/$", "");
        rpc = new GatewayClient(URI.create(base), token);
        chromium = HeadlessChromium.start(dir.resolve("profile"), 1280, 900);
        driver = chromium.driver();
    }

    private JsonNode status() {
        GatewayClient.Answer answer = rpc.rpc("status");
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        return answer.body().get("payload");
    }

    private JsonNode history() throws Exception {
        String conversation = (String) js("return document.getElementById('conversation-input').value;");
        GatewayClient.Answer answer = rpc.rpc("chat.history",
                JSON.createObjectNode().put("channel", "webchat").put("conversation", conversation).toString());
        assertThat(answer.body().path("ok").asBoolean()).as(answer.raw()).isTrue();
        return answer.body().at("/payload/exchanges");
    }

    // ---- the page ----

    private void openPage() {
        driver.get(base + "/");
        waitFor("the page connects", d -> connState().equals("connected"));
    }

    private void send(String text) {
        WebElement composer = driver.findElement(By.id("composer"));
        composer.sendKeys(text);
        composer.sendKeys(Keys.ENTER);
    }

    private String conversationId() {
        return driver.findElement(By.id("conversation-input")).getDomProperty("value");
    }

    private void openConversation(String id) {
        WebElement input = driver.findElement(By.id("conversation-input"));
        input.clear();
        input.sendKeys(id, Keys.ENTER);
    }

    private String connState() {
        return driver.findElement(By.id("conn-state")).getDomAttribute("data-state");
    }

    private String field(String name) {
        return driver.findElement(By.cssSelector("#status-panel [data-field='" + name + "']")).getText();
    }

    private WebElement userBubble(String text) {
        for (WebElement bubble : driver.findElements(By.cssSelector("#messages .msg.user"))) {
            if (bubble.findElement(By.cssSelector(".body")).getText().equals(text)) {
                return bubble;
            }
        }
        throw new AssertionError("no user bubble " + text + " among " + userTexts());
    }

    private static boolean hasQueuedMark(WebElement bubble) {
        return !bubble.findElements(By.cssSelector(".queued")).isEmpty();
    }

    private WebElement awaitReply(String text) {
        return waitFor("a reply '" + text + "'", d -> {
            for (WebElement reply : d.findElements(By.cssSelector("#messages .msg.agent"))) {
                if (reply.getText().equals(text)) {
                    return reply;
                }
            }
            return null;
        });
    }

    private List<String> agentTexts() {
        return driver.findElements(By.cssSelector("#messages .msg.agent")).stream().map(WebElement::getText).toList();
    }

    private List<String> userTexts() {
        return driver.findElements(By.cssSelector("#messages .msg.user .body")).stream().map(WebElement::getText).toList();
    }

    private List<String> agentReplyIds() {
        return driver.findElements(By.cssSelector("#messages .msg.agent")).stream()
                .map(e -> e.getDomAttribute("data-reply-id")).toList();
    }

    private Object js(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    private <T> T waitFor(String what, ExpectedCondition<T> condition) {
        return new WebDriverWait(driver, PATIENCE, Duration.ofMillis(50)).withMessage(what).until(condition);
    }
}
