/*
 * init for the Linux benchmark guest: a UDP and TCP echo server on epoll, the
 * Linux peer of Ringlet's user/echo (same ports, same protocol: every byte
 * received is sent back unchanged). It is PID 1 of an initramfs, so it also
 * brings up lo and eth0 itself (10.0.2.15/24 via 10.0.2.2, QEMU's user
 * network) with ioctls, and never returns.
 *
 * Every REPORT requests (kernel command line report_every=N, default 10000;
 * a request is one UDP datagram or one TCP read) it prints the hart's
 * instructions retired per request, read with rdinstret from user space.
 * The count covers everything the hart ran (kernel, stack, driver, this
 * program, and the idle loop: under -icount an idle hart's clock, and so
 * instret, keeps advancing), which is the comparison issue 7 asks for; it is
 * only meaningful with -smp 1, and exact under -icount shift=0. The idle part
 * is printed too, estimated from the kernel's idle accounting (idle_ns).
 * At start it also prints a system call's round trip in instructions
 * (getppid, say_syscall_round_trip), Linux's figure beside Ringlet's.
 *
 * Linux 6.1's SBI PMU driver opens instret to user mode (scounteren) but
 * stops every counter until perf starts it, so init opens one system-wide
 * perf event for instructions on hart 0 and keeps it open: that starts the
 * counter once, and a CPU-wide event is never switched out, so the counter is
 * not reset under us. (QEMU has no Sscofpmf: no mode filtering, every mode
 * counts.)
 *
 * App mode (issue 16 item 6): with app=NAME on the kernel command line
 * (redis, kv, httpd or lighttpd) init does not echo: after the same network and perf
 * set-up it starts /bin/NAME with fixed arguments (see start_app) and waits
 * for it; the app inherits the one-hart affinity. The servers are in the
 * initramfs only when scripts/bench/linux-guest.sh was given them.
 *
 * Built static with riscv64-linux-gnu-gcc by scripts/bench/linux-guest.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define PORT 5555
#define MAX_EVENTS 64
#define BUF_SIZE 65536
#define MAX_FDS 1024

/* Bytes a TCP connection still owes its peer after a short write. While any
 * are pending the connection is not read, so one slow client costs memory
 * bounded by one read. */
struct conn {
    int open;
    size_t pending_off, pending_len;
    unsigned char pending[BUF_SIZE];
};

static struct conn *conns[MAX_FDS];
static unsigned char buf[BUF_SIZE];
static volatile int instret_ok = 1;
static unsigned long report_every = 10000;
static unsigned long requests;
static uint64_t window_start;
static uint64_t idle_start;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

/* Never return from PID 1: the kernel would panic and hide the message. */
static void die(const char *what) {
    char msg[256];
    snprintf(msg, sizeof msg, "echo-init: %s: %s; powering off\n", what, strerror(errno));
    say(msg);
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

/* rdinstret traps with SIGILL when the kernel has not opened instret to user
 * mode (scounteren.IR, set by the SBI PMU driver); skip the 4-byte
 * instruction and remember that counting is off. */
static void on_sigill(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)info;
    ucontext_t *uc = ctx;
    uc->uc_mcontext.__gregs[REG_PC] += 4;
    instret_ok = 0;
}

static uint64_t rdinstret(void) {
    uint64_t v = 0;
    __asm__ volatile("rdinstret %0" : "=r"(v));
    return v;
}

/* Starts hart 0's instret counter through perf; returns the event fd or -1. */
static int start_instret(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0);
}

/* Time hart 0 has spent in the idle task, in ns, from /proc/stat's cpu0
 * line (USER_HZ units; the kernel charges whole 4 ms ticks, HZ_PERIODIC).
 * Under -icount shift=0 a nanosecond of guest time is one "instruction" of
 * instret, and idle time advances the clock, so this is the idle part of an
 * instret window; a sampled estimate, exact only over long windows. 0 when
 * /proc/stat cannot be read. */
static uint64_t idle_ns(void) {
    const int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[4096];
    const ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = 0;
    const char *line = strstr(text, "\ncpu0 ");
    unsigned long long user, nice, system, idle;
    if (!line || sscanf(line + 1, "cpu0 %llu %llu %llu %llu", &user, &nice, &system, &idle) != 4) return 0;
    const long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (uint64_t)(idle * (1000000000ull / (unsigned long long)hz)) : 0;
}

/* Linux's figure beside user/microbench's syscall round trip: the
 * instructions of one getppid() - a system call that only reads a field -
 * from user space into the kernel and back, loop included as there, the
 * least of 20 runs of 100 (a timer tick inside a run only raises it). Exact
 * under -icount shift=0. */
static void say_syscall_round_trip(void) {
    uint64_t best = UINT64_MAX;
    for (int run = 0; run < 20; ++run) {
        const uint64_t start = rdinstret();
        for (int i = 0; i < 100; ++i) (void)syscall(SYS_getppid);
        const uint64_t spent = rdinstret() - start;
        if (spent < best) best = spent;
    }
    char msg[120];
    snprintf(msg, sizeof msg, "echo-init: syscall round trip (getppid): %llu instructions\n",
             (unsigned long long)(best / 100));
    say(msg);
}

static void count_request(void) {
    /* Windows run from the first request on, so that boot and the wait for
     * the load generator are not charged to the requests. */
    if (++requests == 1) {
        window_start = rdinstret();
        idle_start = idle_ns();
        return;
    }
    if ((requests - 1) % report_every != 0) return;
    const uint64_t now = rdinstret();
    const uint64_t idle = idle_ns();
    char msg[200];
    if (instret_ok)
        snprintf(msg, sizeof msg, "echo-init: instret %lu requests %llu instructions %.1f per request idle %.1f per request\n",
                 report_every, (unsigned long long)(now - window_start), (double)(now - window_start) / report_every,
                 (double)(idle - idle_start) / report_every);
    else
        snprintf(msg, sizeof msg, "echo-init: %lu requests (instret not readable from user mode)\n", requests - 1);
    say(msg);
    window_start = rdinstret();
    idle_start = idle_ns();
}

static void set_addr(struct sockaddr *sa, const char *ip) {
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &in->sin_addr);
}

/* ifconfig NAME IP netmask MASK up, by ioctl. */
static void if_up(int s, const char *name, const char *ip, const char *mask) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    set_addr(&ifr.ifr_addr, ip);
    if (ioctl(s, SIOCSIFADDR, &ifr) != 0) die("SIOCSIFADDR");
    set_addr(&ifr.ifr_netmask, mask);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) die("SIOCSIFNETMASK");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS");
}

static void configure_network(void) {
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    if_up(s, "lo", "127.0.0.1", "255.0.0.0");
    if_up(s, "eth0", "10.0.2.15", "255.255.255.0");
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_addr(&rt.rt_dst, "0.0.0.0");
    set_addr(&rt.rt_genmask, "0.0.0.0");
    set_addr(&rt.rt_gateway, "10.0.2.2");
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(s, SIOCADDRT, &rt) != 0) die("SIOCADDRT");
    close(s);
    say("echo-init: eth0 10.0.2.15/24 via 10.0.2.2\n");
}

static int open_server(int type) {
    const int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(PORT);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
    if (type == SOCK_STREAM && listen(fd, 128) != 0) die("listen");
    return fd;
}

static void watch(int ep, int op, int fd, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, op, fd, &ev) != 0) die("epoll_ctl");
}

static void close_conn(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    conns[fd]->open = 0;
}

/* Sends what `c` still owes; returns 0 when all is out, 1 when the socket is
 * full, -1 when the connection broke. */
static int flush(int fd, struct conn *c) {
    while (c->pending_off < c->pending_len) {
        const ssize_t n = send(fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : (errno == EINTR ? 0 : -1);
        c->pending_off += (size_t)n;
    }
    c->pending_off = c->pending_len = 0;
    return 0;
}

static void on_tcp(int ep, int fd, uint32_t events) {
    struct conn *c = conns[fd];
    if (c->pending_len) {
        const int r = flush(fd, c);
        if (r < 0) return close_conn(ep, fd);
        if (r > 0) return;
        watch(ep, EPOLL_CTL_MOD, fd, EPOLLIN);
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    const ssize_t n = recv(fd, c->pending, BUF_SIZE, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close_conn(ep, fd);
    if (n < 0) return;
    count_request();
    c->pending_off = 0;
    c->pending_len = (size_t)n;
    const int r = flush(fd, c);
    if (r < 0) return close_conn(ep, fd);
    if (r > 0) watch(ep, EPOLL_CTL_MOD, fd, EPOLLOUT);  /* stop reading until drained */
}

static void on_accept(int ep, int lfd) {
    for (;;) {
        const int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (fd >= MAX_FDS) { close(fd); continue; }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!conns[fd] && !(conns[fd] = calloc(1, sizeof(struct conn)))) { close(fd); continue; }
        conns[fd]->open = 1;
        conns[fd]->pending_off = conns[fd]->pending_len = 0;
        watch(ep, EPOLL_CTL_ADD, fd, EPOLLIN);
    }
}

static void on_udp(int ufd) {
    for (int i = 0; i < 64; ++i) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        const ssize_t n = recvfrom(ufd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0) return;
        count_request();
        sendto(ufd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}

/* The benchmark servers and their arguments: no persistence (kv runs with
 * --no-disk on both guests, Redis without RDB or AOF), one event loop. */
static void start_app(const char *name) {
    static char *redis[] = {"/bin/redis-server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no",
                            "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", NULL};
    static char *kv[] = {"/bin/kv", "--port", "6379", "--no-disk", NULL};
    static char *httpd[] = {"/bin/httpd", "--port", "8080", NULL};
    /* /etc/lighttpd.conf: /www on port 8080, epoll, long keep-alive. */
    static char *lighttpd[] = {"/bin/lighttpd", "-D", "-f", "/etc/lighttpd.conf", NULL};
    char **argv = !strcmp(name, "redis") ? redis : !strcmp(name, "kv") ? kv : !strcmp(name, "httpd") ? httpd
                : !strcmp(name, "lighttpd") ? lighttpd : NULL;
    if (!argv) { errno = EINVAL; die("app= wants redis, kv, httpd or lighttpd"); }
    if (access(argv[0], X_OK) != 0) die(argv[0]);
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        char *envp[] = {"PATH=/bin", NULL};
        execve(argv[0], argv, envp);
        die("execve");
    }
    char msg[160];
    snprintf(msg, sizeof msg, "echo-init: started %s (pid %d)\n", argv[0], (int)pid);
    say(msg);
    for (;;) {
        int status = 0;
        const pid_t done = wait(&status);
        if (done == pid) {
            snprintf(msg, sizeof msg, "echo-init: %s exited (status 0x%x); powering off\n", argv[0], status);
            say(msg);
            sync();
            reboot(RB_POWER_OFF);
        }
        if (done < 0 && errno != EINTR) pause();
    }
}

int main(void) {
    /* Kernel command-line words with '=' and no '.' arrive as environment. */
    const char *every = getenv("report_every");
    if (every && strtoul(every, NULL, 10) > 0) report_every = strtoul(every, NULL, 10);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, NULL);
    /* instret is per hart: stay on one so that windows are not mixed. */
    cpu_set_t one_cpu;
    CPU_ZERO(&one_cpu);
    CPU_SET(0, &one_cpu);
    sched_setaffinity(0, sizeof one_cpu, &one_cpu);

    mount("proc", "/proc", "proc", 0, NULL);
    configure_network();
    const char *app = getenv("app");
    if (app && *app) {
        if (start_instret() < 0) say("echo-init: perf_event_open(instructions) failed: instret may stand still\n");
        start_app(app);
    }
    const int ufd = open_server(SOCK_DGRAM);
    const int lfd = open_server(SOCK_STREAM);
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    watch(ep, EPOLL_CTL_ADD, ufd, EPOLLIN);
    watch(ep, EPOLL_CTL_ADD, lfd, EPOLLIN);
    if (start_instret() < 0) say("echo-init: perf_event_open(instructions) failed: instret may stand still\n");
    (void)rdinstret(); /* probe: a SIGILL here clears instret_ok before the banner */
    char msg[128];
    snprintf(msg, sizeof msg, "echo-init: echo on UDP and TCP port %d, instret every %lu requests%s\n", PORT,
             report_every, instret_ok ? "" : " (instret not readable)");
    say(msg);
    if (instret_ok) say_syscall_round_trip();
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        const int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == ufd) on_udp(ufd);
            else if (fd == lfd) on_accept(ep, lfd);
            else if (fd < MAX_FDS && conns[fd] && conns[fd]->open) on_tcp(ep, fd, events[i].events);
        }
    }
}
