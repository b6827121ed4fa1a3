/* queue_const_fcgi.c: the ceiling for the waiting-room benchmark: a
 * minimal libfcgi program that answers every request with a constant JSON
 * body, preforked like boxoffice-fcgi. Built and run by queue_bench.sh:
 *   queue_const_fcgi SOCKET_PATH WORKERS */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char answer[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\r\n"
    "{\"event_id\":1,\"state\":\"waiting\",\"position\":50000,\"ahead\":49999,\"eta_s\":5000,"
    "\"poll_after_s\":60,\"pre_queue\":false}";

static void serve(int fd)
{
    FCGX_Request req;
    if (FCGX_InitRequest(&req, fd, 0) != 0)
        exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
        FCGX_Finish_r(&req);
    }
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH WORKERS\n", argv[0]);
        return 2;
    }
    int workers = atoi(argv[2]);
    if (FCGX_Init() != 0)
        return 1;
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0)
        return 1;
    for (int i = 0; i < workers; i++) {
        if (fork() == 0)
            serve(fd);
    }
    signal(SIGTERM, SIG_DFL);
    while (wait(NULL) > 0)
        ;
    return 0;
}
