package dev.ferry.channel.webchat;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Collectors;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's chromium and chromium-driver, driven by Selenium with explicit paths so that Selenium
 * Manager never looks anything up or downloads anything. One instance is one browser with its own
 * fresh profile; not thread-safe (a test drives it from its own thread).
 */
final class HeadlessChromium implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private final ChromeDriverService service;
    private final ChromeDriver driver;

    private HeadlessChromium(ChromeDriverService service, ChromeDriver driver) {
        this.service = service;
        this.driver = driver;
    }

    /**
     * Skips the calling test when the browser is missing, unless {@code FERRY_REQUIRE_BROWSER=1}
     * (CI), where a missing browser fails it.
     */
    static void requireInstalled() {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String why = CHROMIUM + " and " + CHROMEDRIVER + " are needed for the web chat browser test;"
                + " .ci/run installs chromium and chromium-driver (apt-get install chromium chromium-driver)";
        if (!present && "1".equals(System.getenv("FERRY_REQUIRE_BROWSER"))) {
            fail("FERRY_REQUIRE_BROWSER=1 but " + why);
        }
        assumeTrue(present, why);
    }

    /** A fresh headless browser whose profile lives in {@code profile}. */
    static HeadlessChromium start(Path profile, int width, int height) throws IOException {
        Files.createDirectories(profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withSilent(true)
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--window-size=" + width + "," + height, "--user-data-dir=" + profile.toAbsolutePath(),
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20)).scriptTimeout(Duration.ofSeconds(10));
            return new HeadlessChromium(service, driver);
        } catch (RuntimeException e) {
            service.stop();
            throw e;
        }
    }

    ChromeDriver driver() {
        return driver;
    }

    /** The page's console since the last call, one line per entry. */
    List<String> console() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .map(HeadlessChromium::line)
                .collect(Collectors.toList());
    }

    private static String line(LogEntry entry) {
        return entry.getLevel() + " " + entry.getMessage();
    }

    void screenshot(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    static void write(Path file, List<String> lines) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
