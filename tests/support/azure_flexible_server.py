"""Stand-in for Azure Resource Manager's Microsoft.DBforPostgreSQL/flexibleServers (servers and backups).

Stands in for: ARM's flexible server API as azure-mgmt-postgresqlflexibleservers 3.x calls it - servers get and
create_or_update (including createMode PointInTimeRestore with sourceServerResourceId and pointInTimeUTC), backups
list/get and on-demand create, the backup retention and earliest restore date on the server resource. Every request
needs the bearer token of the stand-in's token endpoint and an api-version; creates are long-running operations
(202 + Azure-AsyncOperation) after which the resource appears, like on Azure; errors have ARM's bodies (404
ResourceNotFound, 409 Conflict, 400 InvalidParameterValue).

Interface for the tests: ``FlexibleServerStandIn(directory).start()``; ``.add_server(resource_group, name,
retention_days=7, earliest=<datetime or None>, tags=None)``; ``.servers`` / ``.backups`` (dicts of the JSON
resources, keyed by (group, name) and (group, server, name)); ``.creates`` (PUTs accepted); ``.polls_per_operation``
(how many InProgress answers an operation gives first); ``.operation_error`` ((code, message) makes
operations end Failed); plus everything of AzureHttpsServer.
"""

import datetime

from support.azure_https import AzureHttpsServer, Response, arm_error

SUBSCRIPTION_ID = "00000000-0000-4000-8000-0000000sub01"
PROVIDER = "Microsoft.DBforPostgreSQL/flexibleServers"
_BASE = r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/Microsoft\.DBforPostgreSQL/flexibleServers/(?P<server>[^/]+)"


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def _parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class FlexibleServerStandIn(AzureHttpsServer):
    def __init__(self, directory):
        super(FlexibleServerStandIn, self).__init__(directory)
        self.servers = {}
        self.backups = {}
        self.creates = []
        self.polls_per_operation = 1
        self.operation_error = None  # (code, message): operations end Failed with it, as ARM reports a failed create
        self.route("GET", _BASE + "$", self._get_server)
        self.route("PUT", _BASE + "$", self._put_server)
        self.route("GET", _BASE + "/backups$", self._list_backups)
        self.route("GET", _BASE + "/backups/(?P<backup>[^/]+)$", self._get_backup)
        self.route("PUT", _BASE + "/backups/(?P<backup>[^/]+)$", self._put_backup)

    def server_id(self, group, name):
        return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s" % (SUBSCRIPTION_ID, group, PROVIDER, name)

    def add_server(self, group, name, retention_days=7, earliest=None, tags=None, location="westeurope"):
        created = _now() - datetime.timedelta(days=2)
        earliest = created + datetime.timedelta(minutes=10) if earliest is None else earliest
        backup = {"backupRetentionDays": retention_days, "geoRedundantBackup": "Disabled"}
        if earliest is not False:
            backup["earliestRestoreDate"] = _iso(earliest)
        self.servers[(group, name)] = {
            "id": self.server_id(group, name), "name": name, "type": PROVIDER, "location": location,
            "tags": dict(tags or {}), "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
            "properties": {"administratorLogin": "ivadmin", "version": "16", "state": "Ready",
                           "fullyQualifiedDomainName": "%s.postgres.database.azure.com" % name,
                           "storage": {"storageSizeGB": 128}, "backup": backup,
                           "network": {"publicNetworkAccess": "Disabled"}, "createMode": "Create"}}
        if earliest is not False:
            self._store_backup(group, name, "backup_%s" % int(earliest.timestamp()), "Full", earliest)
        return self.servers[(group, name)]

    def _store_backup(self, group, server, name, kind, completed):
        self.backups[(group, server, name)] = {
            "id": self.server_id(group, server) + "/backups/" + name, "name": name,
            "type": PROVIDER + "/backups",
            "properties": {"backupType": kind, "completedTime": _iso(completed), "source": "Automatic"
                           if kind == "Full" else "Customer On-Demand"}}

    # checks every ARM request shares ---------------------------------------------------------------------
    def _refused(self, request):
        problem = self.bearer_problem(request)
        if problem:
            return problem
        if not request.query.get("api-version"):
            return arm_error(400, "MissingApiVersionParameter",
                             "The api-version query parameter (?api-version=) is required for all requests.")
        if request.match.group("sub") != SUBSCRIPTION_ID:
            return arm_error(404, "SubscriptionNotFound",
                             "The subscription '%s' could not be found." % request.match.group("sub"))
        return None

    def _not_found(self, request, kind="flexibleServers", name=None):
        return arm_error(404, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found. For"
                         " more details please go to https://aka.ms/ARMResourceNotFoundFix" % (
                             "Microsoft.DBforPostgreSQL/" + kind, name or request.match.group("server"),
                             request.match.group("group")))

    # servers ---------------------------------------------------------------------------------------------
    def _get_server(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        found = self.servers.get((request.match.group("group"), request.match.group("server")))
        return Response(200, found) if found else self._not_found(request)

    def _put_server(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        group, name = request.match.group("group"), request.match.group("server")
        body = request.json or {}
        props = body.get("properties") or {}
        if props.get("createMode") != "PointInTimeRestore":
            return arm_error(400, "InvalidParameterValue", "The stand-in only creates servers by point-in-time"
                             " restore (createMode PointInTimeRestore).")
        if (group, name) in self.servers:
            return arm_error(409, "Conflict", "Server '%s' already exists." % name)
        source = next((server for server in self.servers.values()
                       if server["id"].lower() == (props.get("sourceServerResourceId") or "").lower()), None)
        if source is None:
            return arm_error(400, "InvalidParameterValue", "Invalid value given for parameter"
                             " SourceServerResourceId. Specify a valid parameter value.")
        if not props.get("pointInTimeUTC"):
            return arm_error(400, "InvalidParameterValue", "Point in time restore needs PointInTimeUTC.")
        when = _parse(props["pointInTimeUTC"])
        earliest = source["properties"]["backup"].get("earliestRestoreDate")
        if earliest is None or when < _parse(earliest) or when > _now():
            return arm_error(400, "PointInTimeRestoreTimeNotValid", "The restore point in time %s is outside the"
                             " restorable window." % props["pointInTimeUTC"])
        if body.get("location") != source["location"]:
            return arm_error(400, "InvalidParameterValue", "A restored server must be in the source's location.")
        self.creates.append(("server", group, name, props["pointInTimeUTC"]))

        def finish():
            restored = dict(source, id=self.server_id(group, name), name=name, tags=dict(body.get("tags") or {}))
            restored["properties"] = dict(source["properties"], state="Ready", createMode="PointInTimeRestore",
                                          fullyQualifiedDomainName="%s.postgres.database.azure.com" % name,
                                          sourceServerResourceId=source["id"], pointInTimeUTC=props["pointInTimeUTC"])
            self.servers[(group, name)] = restored
        return Response(202, None, self.start_operation(finish, polls=self.polls_per_operation,
                                                        error=self.operation_error))

    # backups ---------------------------------------------------------------------------------------------
    def _list_backups(self, request):
        refused = self._refused(request)
        if refused:
            return refused
        group, server = request.match.group("group"), request.match.group("server")
        if (group, server) not in self.servers:
            return self._not_found(request)
        return Response(200, {"value": [backup for key, backup in sorted(self.backups.items())
                                        if key[:2] == (group, server)]})

    def _backup_request(self, request):
        """(refusal or None, group, server, backup name): what every backup request checks first."""
        group, server, name = request.match.group("group"), request.match.group("server"), request.match.group("backup")
        refused = self._refused(request)
        if refused is None and (group, server) not in self.servers:
            refused = self._not_found(request)
        return refused, group, server, name

    def _get_backup(self, request):
        refused, group, server, name = self._backup_request(request)
        if refused:
            return refused
        found = self.backups.get((group, server, name))
        return Response(200, found) if found else self._not_found(request, "flexibleServers/backups", name)

    def _put_backup(self, request):
        refused, group, server, name = self._backup_request(request)
        if refused:
            return refused
        if (group, server, name) in self.backups:
            return arm_error(409, "Conflict", "A backup named '%s' already exists." % name)
        self.creates.append(("backup", group, server, name))
        return Response(202, None, self.start_operation(
            lambda: self._store_backup(group, server, name, "Customer On-Demand", _now()),
            polls=self.polls_per_operation, error=self.operation_error))
