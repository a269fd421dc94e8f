/**
 * The web chat channel's page: HTML, CSS and JavaScript from the jar, which talks to the gateway over
 * {@code /ws} like any control client. Its messages are channel {@code webchat}
 * ({@link dev.ferry.channel.ClientChannel}); it never reaches into the pipeline itself.
 */
package dev.ferry.channel.webchat;
