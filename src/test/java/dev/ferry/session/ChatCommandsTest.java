package dev.ferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;
import dev.ferry.session.ChatCommands.Command;
import dev.ferry.session.ChatCommands.QueueDirective;

/** Recognising chat commands and reading {@code /queue} directives (SPEC 2 step 3, SPEC 3.2). */
class ChatCommandsTest {

    @Test
    void theFiveCommandsAreRecognisedWithTheirArgument() {
        assertThat(ChatCommands.parse("/status")).contains(new Command("status", ""));
        assertThat(ChatCommands.parse("/new")).contains(new Command("new", ""));
        assertThat(ChatCommands.parse("/reset  start over ")).contains(new Command("reset", "start over"));
        assertThat(ChatCommands.parse("/stop")).contains(new Command("stop", ""));
        assertThat(ChatCommands.parse("/queue collect cap:3")).contains(new Command("queue", "collect cap:3"));
    }

    @Test
    void aCommandMayCarryABotMention() {
        assertThat(ChatCommands.isCommand("/status@mybot")).isTrue();
        assertThat(ChatCommands.parse("/queue@my_bot followup")).contains(new Command("queue", "followup"));
    }

    @Test
    void commandNamesIgnoreCaseAndSurroundingBlanks() {
        assertThat(ChatCommands.parse("  /STATUS \n")).contains(new Command("status", ""));
    }

    @Test
    void otherSlashTextIsNotACommand() {
        assertThat(ChatCommands.isCommand("/shrug")).isFalse();
        assertThat(ChatCommands.isCommand("/statusx")).isFalse();
        assertThat(ChatCommands.isCommand("/status/x")).isFalse();
        assertThat(ChatCommands.isCommand("please /status")).isFalse();
        assertThat(ChatCommands.isCommand("status")).isFalse();
        assertThat(ChatCommands.isCommand("")).isFalse();
        assertThat(ChatCommands.isCommand(null)).isFalse();
    }

    @Test
    void queueModeAliasesIgnoreCase() {
        assertThat(mode("FOLLOW-UPS")).isEqualTo(QueueMode.FOLLOWUP);
        assertThat(mode("followups")).isEqualTo(QueueMode.FOLLOWUP);
        assertThat(mode("Coalesce")).isEqualTo(QueueMode.COLLECT);
        assertThat(mode("steering")).isEqualTo(QueueMode.STEER);
        assertThat(mode("queued")).isEqualTo(QueueMode.STEER);
        assertThat(mode("steer+backlog")).isEqualTo(QueueMode.STEER_BACKLOG);
        assertThat(mode("STEER_BACKLOG")).isEqualTo(QueueMode.STEER_BACKLOG);
        assertThat(mode("Abort")).isEqualTo(QueueMode.INTERRUPT);
        assertThat(mode("interrupts")).isEqualTo(QueueMode.INTERRUPT);
    }

    @Test
    void debounceTakesMillisecondsSecondsAndMinutesWithColonOrEquals() {
        assertThat(ChatCommands.parseQueueDirective("debounce:2s").settings().debounceMs()).isEqualTo(2_000L);
        assertThat(ChatCommands.parseQueueDirective("debounce=500ms").settings().debounceMs()).isEqualTo(500L);
        assertThat(ChatCommands.parseQueueDirective("debounce:750").settings().debounceMs()).isEqualTo(750L);
        assertThat(ChatCommands.parseQueueDirective("DEBOUNCE:1m").settings().debounceMs()).isEqualTo(60_000L);
        assertThat(ChatCommands.parseQueueDirective("debounce:0").settings().debounceMs()).isZero();
    }

    @Test
    void capAndDropAreRead() {
        assertThat(ChatCommands.parseQueueDirective("cap:5").settings().cap()).isEqualTo(5);
        assertThat(ChatCommands.parseQueueDirective("cap=12").settings().cap()).isEqualTo(12);
        assertThat(ChatCommands.parseQueueDirective("drop:oldest").settings().drop()).isEqualTo(DropPolicy.OLD);
        assertThat(ChatCommands.parseQueueDirective("drop=newest").settings().drop()).isEqualTo(DropPolicy.NEW);
        assertThat(ChatCommands.parseQueueDirective("drop:Summary").settings().drop()).isEqualTo(DropPolicy.SUMMARIZE);
    }

    @Test
    void maxWaitIsReadAsADuration() {
        assertThat(ChatCommands.parseQueueDirective("maxwait:5s").settings().maxWaitMs()).isEqualTo(5_000L);
        assertThat(ChatCommands.parseQueueDirective("maxWait=1500").settings().maxWaitMs()).isEqualTo(1_500L);
        assertThat(ChatCommands.parseQueueDirective("MAXWAIT:0").settings().maxWaitMs()).isZero();
        assertThat(ChatCommands.parseQueueDirective("maxwait:soon").errors()).singleElement().asString()
                .startsWith("maxwait: expected a duration").endsWith("got 'soon'");
    }

    @Test
    void allOptionsInAnyOrderMakeOneDirective() {
        QueueDirective directive = ChatCommands.parseQueueDirective("cap:3 followup drop:old maxwait:4s debounce:1s");

        assertThat(directive.settings())
                .isEqualTo(new QueueOverride(QueueMode.FOLLOWUP, 1_000L, 3, DropPolicy.OLD, 4_000L));
        assertThat(directive.reset()).isFalse();
        assertThat(directive.remainingText()).isEmpty();
        assertThat(directive.errors()).isEmpty();
        assertThat(directive.changesNothing()).isFalse();
    }

    @Test
    void resetDefaultAndClearGoBackToTheConfiguredSettings() {
        for (String word : new String[] {"reset", "default", "CLEAR"}) {
            QueueDirective directive = ChatCommands.parseQueueDirective(word);
            assertThat(directive.reset()).as(word).isTrue();
            assertThat(directive.settings().isEmpty()).isTrue();
            assertThat(directive.changesNothing()).isFalse();
        }
    }

    @Test
    void theDirectiveIsStrippedAndTheRemainingTextReturned() {
        QueueDirective directive = ChatCommands.parseQueueDirective("collect cap:3  hello there\nsecond line");

        assertThat(directive.settings()).isEqualTo(new QueueOverride(QueueMode.COLLECT, null, 3, null));
        assertThat(directive.remainingText()).isEqualTo("hello there\nsecond line");
        assertThat(directive.errors()).isEmpty();
    }

    @Test
    void textWithoutADirectiveChangesNothing() {
        QueueDirective directive = ChatCommands.parseQueueDirective("hello there");

        assertThat(directive.changesNothing()).isTrue();
        assertThat(directive.remainingText()).isEqualTo("hello there");
        assertThat(ChatCommands.parseQueueDirective("").changesNothing()).isTrue();
    }

    @Test
    void invalidValuesGiveErrorsNamingTheOption() {
        assertThat(ChatCommands.parseQueueDirective("debounce:soon").errors())
                .singleElement().asString().startsWith("debounce:").contains("soon");
        assertThat(ChatCommands.parseQueueDirective("debounce:1.5s").errors()).hasSize(1);
        assertThat(ChatCommands.parseQueueDirective("cap:0").errors())
                .singleElement().asString().startsWith("cap:").contains("'0'");
        assertThat(ChatCommands.parseQueueDirective("cap:-1").errors()).hasSize(1);
        assertThat(ChatCommands.parseQueueDirective("cap:many").errors()).hasSize(1);
        assertThat(ChatCommands.parseQueueDirective("drop:everything").errors())
                .singleElement().asString().startsWith("drop:").contains("everything");
        assertThat(ChatCommands.parseQueueDirective("followup cap:0 drop:x").errors()).hasSize(2);
    }

    private static QueueMode mode(String word) {
        QueueDirective directive = ChatCommands.parseQueueDirective(word);
        assertThat(directive.errors()).isEmpty();
        assertThat(directive.remainingText()).isEmpty();
        return directive.settings().mode();
    }
}
