"""The task queue's backends (settings.TASKS): django-tasks-rq's RQ backend, declaring the priority it honours."""

from django_tasks_rq import RQBackend


class PriorityRQBackend(RQBackend):
    """django-tasks-rq's backend, which puts a task of the highest priority (TASK_MAX_PRIORITY) at the front of its
    queue but does not say so, so that django-tasks refuses any priority. Any other priority is RQ's one order."""

    supports_priority = True
